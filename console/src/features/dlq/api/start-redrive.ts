import type { RedriveAccepted, RedriveBody } from '@orderflow/ops-api/schemas';
import type { PipeKey } from '@orderflow/pipeline/facts';
import { useMutation } from '@tanstack/react-query';
import { type ApiClient, segment } from '../../../lib/api-client.ts';
import { useApi } from '../../../lib/api-context.tsx';

export function startRedrive(api: ApiClient, pipe: PipeKey, request: RedriveBody): Promise<RedriveAccepted> {
  return api.post<RedriveAccepted>(`/api/dlqs/${segment(pipe)}/redrive`, request);
}

export function useStartRedrive(pipe: PipeKey) {
  const api = useApi();
  return useMutation({ mutationFn: (request: RedriveBody) => startRedrive(api, pipe, request) });
}
