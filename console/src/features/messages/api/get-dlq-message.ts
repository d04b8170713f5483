import type { DlqMessageDetail } from '@orderflow/ops-api/schemas';
import type { PipeKey } from '@orderflow/pipeline/facts';
import { queryOptions, useQuery } from '@tanstack/react-query';
import { type ApiClient, segment } from '../../../lib/api-client.ts';
import { useApi } from '../../../lib/api-context.tsx';

export function getDlqMessage(api: ApiClient, pipe: PipeKey, messageId: string): Promise<DlqMessageDetail> {
  return api.get<DlqMessageDetail>(`/api/dlqs/${segment(pipe)}/messages/${segment(messageId)}`);
}

export function getDlqMessageQueryOptions(api: ApiClient, pipe: PipeKey, messageId: string) {
  return queryOptions({
    queryKey: ['dlq-message', pipe, messageId],
    queryFn: () => getDlqMessage(api, pipe, messageId),
    retry: false,
  });
}

export function useDlqMessage(pipe: PipeKey, messageId: string) {
  return useQuery(getDlqMessageQueryOptions(useApi(), pipe, messageId));
}
