import type { PipeKey } from '@orderflow/pipeline/facts';
import { DlqMessageError, type PipeDlqMessage, parseDlqMessage } from '@orderflow/pipeline/schemas';

/** `arn:<partition>:dynamodb:<region>:<account>:table/<table>/stream/<label>` */
const STREAM_ARN = /^arn:([\w-]+):dynamodb:([\w-]*):(\d*):table\/([\w.-]+)\/stream\/(.+)$/;
/** `arn:<partition>:pipes:<region>:<account>:pipe/<name>` */
const PIPE_ARN = /^arn:([\w-]+):pipes:([\w-]*):(\d*):pipe\/([\w.-]+)$/;

export interface DlqOriginConfig {
  /** The region the pipes run in (this stack's). */
  readonly region: string;
  /**
   * The region in the orders stream's ARN: this stack's in AWS; locally DynamoDB Local names its own (`ddblocal`),
   * so the local runtime leaves it unchecked (`undefined`).
   */
  readonly streamRegion: string | undefined;
  readonly ordersTable: string;
  readonly pipeNames: Readonly<Record<PipeKey, string>>;
  /** The DLQs' URLs (`https://sqs.<region>.amazonaws.com/<account>/<name>`): they name this stack's account. */
  readonly dlqUrls: Readonly<Record<PipeKey, string>>;
}

/**
 * A DLQ body is input, not a fact: anyone allowed to send to the queue can write one, and the ops API reads the stream
 * it names and replays what it reads into the processor. So a body is trusted only when it names this stack's own
 * pipe (the pipe whose DLQ it is in, by name, in this stack's region and account) and a stream of this stack's orders
 * table (its name, region and account; any stream label, since a stream replaced by a new one still holds its last 24
 * hours). Anything else reads as malformed, with the reason: it is shown so an operator can discard it, and never used
 * to steer a stream read or a redrive.
 *
 * The account is the one in the DLQ's own URL (the pipe, its DLQ and the table are one stack's), so the check needs no
 * call and no permission beyond the configuration.
 */
export class DlqOrigin {
  private readonly accounts: Readonly<Record<PipeKey, string | undefined>>;

  constructor(private readonly config: DlqOriginConfig) {
    const accountOf = (url: string) => /\/(\d{12})\/[^/]+$/.exec(url)?.[1];
    this.accounts = { standard: accountOf(config.dlqUrls.standard), premium: accountOf(config.dlqUrls.premium) };
  }

  /** The body parsed, if it is a pipe DLQ message of this stack for `pipe`; else a {@link DlqMessageError} saying why. */
  async parse(pipe: PipeKey, body: string): Promise<PipeDlqMessage> {
    const message = parseDlqMessage(body);
    const problems = this.problems(pipe, message);
    if (problems.length > 0) throw new DlqMessageError(problems);
    return message;
  }

  private problems(pipe: PipeKey, message: PipeDlqMessage): string[] {
    const problems: string[] = [];
    const account = this.accounts[pipe];
    const { region, streamRegion, ordersTable } = this.config;
    const stream = STREAM_ARN.exec(message.DDBStreamBatchInfo.streamArn);
    const pipeArn = PIPE_ARN.exec(message.context.partnerResourceArn);
    if (
      !stream ||
      (streamRegion !== undefined && stream[2] !== streamRegion) ||
      stream[3] !== account ||
      stream[4] !== ordersTable
    ) {
      problems.push(
        `DDBStreamBatchInfo.streamArn: ${message.DDBStreamBatchInfo.streamArn} is not a stream of this stack's orders table (${ordersTable}${streamRegion ? ` in ${streamRegion}` : ''}, account ${account ?? 'unknown'})`,
      );
    }
    const expected = this.config.pipeNames[pipe];
    if (
      !pipeArn ||
      (stream && pipeArn[1] !== stream[1]) ||
      pipeArn[2] !== region ||
      pipeArn[3] !== account ||
      pipeArn[4] !== expected
    ) {
      problems.push(
        `context.partnerResourceArn: ${message.context.partnerResourceArn} is not this stack's ${pipe} pipe (${expected} in ${region}, account ${account ?? 'unknown'})`,
      );
    }
    return problems;
  }
}
