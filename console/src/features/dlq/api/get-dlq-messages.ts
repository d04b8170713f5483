import type { ListMessagesResponse } from '@orderflow/ops-api/schemas';
import type { PipeKey } from '@orderflow/pipeline/facts';
import { infiniteQueryOptions, useInfiniteQuery } from '@tanstack/react-query';
import { type ApiClient, segment } from '../../../lib/api-client.ts';
import { useApi } from '../../../lib/api-context.tsx';

/** The API's largest page; the console keeps following the cursor until the queue has been read. */
export const MESSAGES_PAGE_SIZE = 100;

export function getDlqMessages(api: ApiClient, pipe: PipeKey, cursor: string | null): Promise<ListMessagesResponse> {
  return api.get<ListMessagesResponse>(`/api/dlqs/${segment(pipe)}/messages`, {
    limit: MESSAGES_PAGE_SIZE,
    cursor,
  });
}

export function getDlqMessagesQueryOptions(api: ApiClient, pipe: PipeKey) {
  return infiniteQueryOptions({
    queryKey: ['dlq-messages', pipe],
    queryFn: ({ pageParam }) => getDlqMessages(api, pipe, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.cursor ?? undefined,
    // Refreshing is cheap for the queue: the API serves one view of it and walks the queue again only once it changed
    // (counts, or a discard or redrive by anyone), at most every 15 s, so each refresh receives nothing by itself.
    // A message that arrives while an operator looks shows up without a reload.
    staleTime: 10_000,
    refetchInterval: 15_000,
  });
}

export function useDlqMessages(pipe: PipeKey) {
  return useInfiniteQuery(getDlqMessagesQueryOptions(useApi(), pipe));
}
