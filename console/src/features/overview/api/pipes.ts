import type { PipeControlResponse, PipeState, PipesResponse } from '@orderflow/ops-api/schemas';
import type { PipeKey } from '@orderflow/pipeline/facts';
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type ApiClient, segment } from '../../../lib/api-client.ts';
import { useApi } from '../../../lib/api-context.tsx';

/** A pipe whose start or stop is still under way: its state is read again soon. */
export function isSettling(state: PipeState | null | undefined): boolean {
  return !!state && state.current !== state.desired && !state.current.endsWith('_FAILED');
}

export function getPipes(api: ApiClient): Promise<PipesResponse> {
  return api.get<PipesResponse>('/api/pipes');
}

export function getPipesQueryOptions(api: ApiClient) {
  return queryOptions({
    queryKey: ['pipes'],
    queryFn: () => getPipes(api),
    // Every second while a pipe is stopping or starting, so the operator sees it settle; else every 15 seconds.
    refetchInterval: (query) => (query.state.data?.pipes.some((pipe) => isSettling(pipe.state)) ? 1_000 : 15_000),
  });
}

export function usePipes() {
  return useQuery(getPipesQueryOptions(useApi()));
}

export type PipeChange = 'stop' | 'start';

/** `POST /api/pipes/{pipe}/stop` or `/start` (operators; the reason goes to the audit log). */
export function changePipeState(api: ApiClient, pipe: PipeKey, change: PipeChange, reason: string) {
  return api.post<PipeControlResponse>(`/api/pipes/${segment(pipe)}/${change}`, { reason });
}

export function useChangePipeState(pipe: PipeKey) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ change, reason }: { change: PipeChange; reason: string }) =>
      changePipeState(api, pipe, change, reason),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['pipes'] }),
  });
}
