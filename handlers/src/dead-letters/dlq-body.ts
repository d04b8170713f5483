import { DlqMessageError, type PipeDlqMessage, parseDlqMessage } from '@orderflow/pipeline/schemas';
import type { ArchiverConfig } from './config.ts';

export type DlqBodyReading =
  | { readonly kind: 'batch'; readonly message: PipeDlqMessage }
  | { readonly kind: 'malformed'; readonly problems: readonly string[] };

/**
 * What a DLQ message body is. A body is input, not a fact: anyone allowed to send to the queue can write one, and the
 * archiver reads the stream it names. So it is a `batch` only when it parses as a pipe DLQ message, names this
 * archiver's pipe (`context.partnerResourceArn`) and a stream of the Orders table (any label: a replaced stream still
 * holds its last 24 hours). Anything else is `malformed`, with the reasons, and is kept as it came; its stream is
 * never read.
 */
export function readDlqBody(body: string, config: Pick<ArchiverConfig, 'pipeArn' | 'ordersStreamArn'>): DlqBodyReading {
  let message: PipeDlqMessage;
  try {
    message = parseDlqMessage(body);
  } catch (error: unknown) {
    if (error instanceof DlqMessageError) return { kind: 'malformed', problems: error.problems };
    throw error;
  }
  const problems: string[] = [];
  if (message.context.partnerResourceArn !== config.pipeArn) {
    problems.push(
      `context.partnerResourceArn: ${message.context.partnerResourceArn} is not this DLQ's pipe (${config.pipeArn})`,
    );
  }
  const table = streamTablePrefix(config.ordersStreamArn);
  if (!message.DDBStreamBatchInfo.streamArn.startsWith(table)) {
    problems.push(
      `DDBStreamBatchInfo.streamArn: ${message.DDBStreamBatchInfo.streamArn} is not a stream of the Orders table (${table}...)`,
    );
  }
  return problems.length > 0 ? { kind: 'malformed', problems } : { kind: 'batch', message };
}

/** `arn:...:table/<name>/stream/` of a stream ARN: every stream of that table starts with it. */
function streamTablePrefix(streamArn: string): string {
  const at = streamArn.indexOf('/stream/');
  return at < 0 ? streamArn : streamArn.slice(0, at + '/stream/'.length);
}
