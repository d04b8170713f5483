import type { DiscardBody, DiscardResponse } from '@orderflow/ops-api/schemas';
import type { PipeKey } from '@orderflow/pipeline/facts';
import { useMutation } from '@tanstack/react-query';
import { type ApiClient, segment } from '../../../lib/api-client.ts';
import { useApi } from '../../../lib/api-context.tsx';

export function discardMessage(api: ApiClient, pipe: PipeKey, messageId: string, request: DiscardBody) {
  return api.delete<DiscardResponse>(`/api/dlqs/${segment(pipe)}/messages/${segment(messageId)}`, request);
}

export interface DiscardOutcome {
  discarded: string[];
  failures: { messageId: string; message: string }[];
}

/** Discards one message after the other, collecting failures instead of stopping at the first. */
export async function discardMessages(
  api: ApiClient,
  pipe: PipeKey,
  messageIds: readonly string[],
  reason: string,
): Promise<DiscardOutcome> {
  const outcome: DiscardOutcome = { discarded: [], failures: [] };
  for (const messageId of messageIds) {
    try {
      await discardMessage(api, pipe, messageId, { reason });
      outcome.discarded.push(messageId);
    } catch (error: unknown) {
      outcome.failures.push({ messageId, message: (error as Error).message });
    }
  }
  return outcome;
}

export function useDiscardMessages(pipe: PipeKey) {
  const api = useApi();
  return useMutation({
    mutationFn: ({ messageIds, reason }: { messageIds: readonly string[]; reason: string }) =>
      discardMessages(api, pipe, messageIds, reason),
  });
}
