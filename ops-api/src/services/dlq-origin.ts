import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PipeKey } from '@orderflow/pipeline/facts';
import { DlqMessageError, type PipeDlqMessage, parseDlqMessage } from '@orderflow/pipeline/schemas';

/** `arn:<partition>:dynamodb:<region>:<account>:table/<table>/stream/<label>` */
const STREAM_ARN = /^arn:([\w-]+):dynamodb:([\w-]*):(\d*):table\/([\w.-]+)\/stream\/(.+)$/;
/** `arn:<partition>:pipes:<region>:<account>:pipe/<name>` */
const PIPE_ARN = /^arn:([\w-]+):pipes:([\w-]*):(\d*):pipe\/([\w.-]+)$/;

interface StreamOwner {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly table: string;
}

export interface DlqOriginConfig {
  /** The region the pipes run in (this stack's). */
  readonly region: string;
  readonly ordersTable: string;
  readonly pipeNames: Readonly<Record<PipeKey, string>>;
}

/**
 * A DLQ body is input, not a fact: anyone allowed to send to the queue can write one, and the ops API reads the stream
 * it names and replays what it reads into the processor. So a body is trusted only when it names this stack's own
 * pipe (the pipe whose DLQ it is in, by name, in this stack's region and account) and a stream of this stack's orders
 * table (same partition, region, account and table as the table's current stream; any stream label, since a stream
 * replaced by a new one still holds its last 24 hours). Anything else reads as malformed, with the reason: it is shown
 * so an operator can discard it, and never used to steer a stream read or a redrive.
 *
 * The table's current stream comes from DescribeTable (once per process): it pins the account, which neither the
 * table name nor the region do.
 */
export class DlqOrigin {
  private owner: Promise<StreamOwner> | undefined;

  constructor(
    private readonly dynamodb: DynamoDBDocumentClient,
    private readonly config: DlqOriginConfig,
  ) {}

  /** The body parsed, if it is a pipe DLQ message of this stack for `pipe`; else a {@link DlqMessageError} saying why. */
  async parse(pipe: PipeKey, body: string): Promise<PipeDlqMessage> {
    const message = parseDlqMessage(body);
    const problems = this.problems(pipe, message, await this.streamOwner());
    if (problems.length > 0) throw new DlqMessageError(problems);
    return message;
  }

  private problems(pipe: PipeKey, message: PipeDlqMessage, owner: StreamOwner): string[] {
    const problems: string[] = [];
    const stream = STREAM_ARN.exec(message.DDBStreamBatchInfo.streamArn);
    if (
      !stream ||
      stream[1] !== owner.partition ||
      stream[2] !== owner.region ||
      stream[3] !== owner.account ||
      stream[4] !== owner.table
    ) {
      problems.push(
        `DDBStreamBatchInfo.streamArn: ${message.DDBStreamBatchInfo.streamArn} is not a stream of this stack's orders table (${owner.table} in ${owner.region}, account ${owner.account})`,
      );
    }
    const pipeArn = PIPE_ARN.exec(message.context.partnerResourceArn);
    const expected = this.config.pipeNames[pipe];
    if (
      !pipeArn ||
      pipeArn[1] !== owner.partition ||
      pipeArn[2] !== this.config.region ||
      pipeArn[3] !== owner.account ||
      pipeArn[4] !== expected
    ) {
      problems.push(
        `context.partnerResourceArn: ${message.context.partnerResourceArn} is not this stack's ${pipe} pipe (${expected} in ${this.config.region}, account ${owner.account})`,
      );
    }
    return problems;
  }

  private streamOwner(): Promise<StreamOwner> {
    this.owner ??= this.describe().catch((error: unknown) => {
      this.owner = undefined;
      throw error;
    });
    return this.owner;
  }

  private async describe(): Promise<StreamOwner> {
    const answer = await this.dynamodb.send(new DescribeTableCommand({ TableName: this.config.ordersTable }));
    const arn = answer.Table?.LatestStreamArn ?? '';
    const match = STREAM_ARN.exec(arn);
    if (!match) throw new Error(`the orders table ${this.config.ordersTable} has no stream (LatestStreamArn ${arn})`);
    return {
      partition: match[1] as string,
      region: match[2] as string,
      account: match[3] as string,
      table: match[4] as string,
    };
  }
}
