import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { JOBS_KEYS, type PipeKey } from '@orderflow/pipeline/facts';

/**
 * How often the ops API changed a pipe's DLQ (a discard, a redrive's deletes), counted for every instance at once.
 *
 * Each process keeps its own view of a DLQ (see DlqBrowser) and forgets it when it changes the queue itself; but in
 * AWS every Lambda instance of the API and every redrive job's invocation is a process of its own, and the counts
 * SQS reports cannot tell "one message left and another arrived" from "nothing happened". A view remembers the
 * generation it was walked at, and is served only while the generation is the same: a discard made through one
 * instance shows in every other at its next request. One item per pipe in the jobs table
 * (`dlq-changes#<pipe>`, refreshed TTL), read with GetItem and raised with UpdateItem `ADD`: both already granted to
 * the ops API's role for jobs.
 */
export interface DlqChanges {
  /** The pipe's current generation; `null` when it cannot be read (a view is then kept only briefly). */
  generation(pipe: PipeKey): Promise<number | null>;
  /** The ops API changed the pipe's DLQ. Never throws: the change itself has happened. */
  changed(pipe: PipeKey): Promise<void>;
}

/** A generation item outlives its last change this long; an expired one reads as 0, which no kept view holds. */
const GENERATION_TTL_SECONDS = 7 * 24 * 3600;

export class TableDlqChanges implements DlqChanges {
  constructor(
    private readonly dynamodb: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async generation(pipe: PipeKey): Promise<number | null> {
    try {
      const answer = await this.dynamodb.send(
        new GetCommand({ TableName: this.table, Key: this.key(pipe), ConsistentRead: true }),
      );
      return Number(answer.Item?.generation ?? 0);
    } catch {
      return null;
    }
  }

  async changed(pipe: PipeKey): Promise<void> {
    await this.dynamodb
      .send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(pipe),
          UpdateExpression: 'ADD generation :one SET #ttl = :ttl',
          ExpressionAttributeNames: { '#ttl': JOBS_KEYS.ttlAttribute },
          ExpressionAttributeValues: { ':one': 1, ':ttl': Math.ceil(Date.now() / 1000) + GENERATION_TTL_SECONDS },
        }),
      )
      // Other instances then notice the change when the counts differ or their view ages out, as before this existed.
      .catch(() => undefined);
  }

  private key(pipe: PipeKey) {
    return { [JOBS_KEYS.partitionKey]: `dlq-changes#${pipe}` };
  }
}

/** Within one process (tests of the browser alone): changes made here are all there are. */
export class InProcessDlqChanges implements DlqChanges {
  private readonly generations = new Map<PipeKey, number>();

  async generation(pipe: PipeKey): Promise<number> {
    return this.generations.get(pipe) ?? 0;
  }

  async changed(pipe: PipeKey): Promise<void> {
    this.generations.set(pipe, (this.generations.get(pipe) ?? 0) + 1);
  }
}
