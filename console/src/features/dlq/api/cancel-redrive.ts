import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type ApiClient, segment } from '../../../lib/api-client.ts';
import { useApi } from '../../../lib/api-context.tsx';

export function cancelRedrive(api: ApiClient, jobId: string): Promise<unknown> {
  return api.delete(`/api/redrives/${segment(jobId)}`);
}

export function useCancelRedrive() {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (jobId: string) => cancelRedrive(api, jobId),
    onSettled: (_data, _error, jobId) => queryClient.invalidateQueries({ queryKey: ['redrive', jobId] }),
  });
}
