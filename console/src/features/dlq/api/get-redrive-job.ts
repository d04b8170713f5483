import type { RedriveJob } from '@orderflow/ops-api/schemas';
import { queryOptions, useQuery } from '@tanstack/react-query';
import { type ApiClient, segment } from '../../../lib/api-client.ts';
import { useApi } from '../../../lib/api-context.tsx';

export function getRedriveJob(api: ApiClient, jobId: string): Promise<RedriveJob> {
  return api.get<RedriveJob>(`/api/redrives/${segment(jobId)}`);
}

export function isFinished(job: RedriveJob | undefined): boolean {
  return job !== undefined && job.status !== 'running';
}

export function getRedriveJobQueryOptions(api: ApiClient, jobId: string) {
  return queryOptions({
    queryKey: ['redrive', jobId],
    queryFn: () => getRedriveJob(api, jobId),
    // Live progress: poll while the job runs, stop once it has a final status.
    refetchInterval: (query) => (isFinished(query.state.data) ? false : 750),
  });
}

export function useRedriveJob(jobId: string | null) {
  const api = useApi();
  return useQuery({ ...getRedriveJobQueryOptions(api, jobId ?? ''), enabled: jobId !== null });
}
