import type { StreamRecord } from '@orderflow/pipeline/schemas';

/**
 * The three DynamoDB Streams calls a pipe poller makes, over the service's JSON 1.0 wire protocol. Reading the wire
 * format directly keeps records exactly as AWS sends them to a target (ApproximateCreationDateTime in epoch seconds,
 * binary as base64), with no SDK model conversion in the hot polling loop.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Operations_Amazon_DynamoDB_Streams.html
 */
export interface ShardDescription {
  readonly ShardId: string;
  readonly ParentShardId?: string;
  readonly SequenceNumberRange?: { StartingSequenceNumber?: string; EndingSequenceNumber?: string };
}

/** A record as GetRecords returns it (no `eventSourceARN`; the pipe adds it). */
export type WireStreamRecord = Omit<StreamRecord, 'eventSourceARN'>;

export type ShardIteratorType = 'TRIM_HORIZON' | 'LATEST' | 'AT_SEQUENCE_NUMBER' | 'AFTER_SEQUENCE_NUMBER';

export class StreamsApiError extends Error {
  override readonly name = 'StreamsApiError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The most records one GetRecords call returns (its `Limit` maximum, in AWS and in DynamoDB Local). */
export const GET_RECORDS_LIMIT = 1000;

/**
 * GetRecords throttled with `LimitExceededException` (a third reader of a shard, docs/AWS-FACTS.md, fact 9) is tried
 * again after 1 s, 2 s, 4 s, 8 s, 16 s, as the AWS SDKs retry that error (a throttling error) with back-off; after
 * that it fails with the error.
 */
export const THROTTLE_RETRIES = 5;
const THROTTLE_BACKOFF_MS = 1000;

export class StreamsApi {
  private readonly authorization: string;
  /** GetRecords calls answered `LimitExceededException` (each then retried after a back-off). */
  throttledCalls = 0;

  /**
   * `accessKeyId` is the key the calls are signed with: behind the local IAM gateway it decides who reads (a pipe
   * reads with its role's key); the signature is not checked.
   */
  constructor(
    private readonly endpoint: string,
    region = 'us-east-1',
    accessKeyId = 'local',
  ) {
    this.authorization = `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20260101/${region}/dynamodb/aws4_request, SignedHeaders=host, Signature=0`;
  }

  private async call<T>(operation: string, body: unknown): Promise<T> {
    const response = await fetch(this.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDBStreams_20120810.${operation}`,
        // DynamoDB Local and the gateway read the access key from the credential scope; the signature is not checked.
        authorization: this.authorization,
      },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) {
      const error = JSON.parse(text) as { __type?: string; Message?: string; message?: string };
      const code = (error.__type ?? 'UnknownError').split('#').pop() ?? 'UnknownError';
      throw new StreamsApiError(
        code,
        `DynamoDB Streams ${operation} failed: ${code}: ${error.Message ?? error.message ?? text}`,
      );
    }
    return JSON.parse(text) as T;
  }

  /** Every shard of the stream (DescribeStream pages through them with ExclusiveStartShardId). */
  async listShards(streamArn: string): Promise<ShardDescription[]> {
    const shards: ShardDescription[] = [];
    let exclusiveStartShardId: string | undefined;
    do {
      const page = await this.call<{
        StreamDescription: { Shards?: ShardDescription[]; LastEvaluatedShardId?: string };
      }>('DescribeStream', {
        StreamArn: streamArn,
        ...(exclusiveStartShardId ? { ExclusiveStartShardId: exclusiveStartShardId } : {}),
      });
      shards.push(...(page.StreamDescription.Shards ?? []));
      exclusiveStartShardId = page.StreamDescription.LastEvaluatedShardId;
    } while (exclusiveStartShardId);
    return shards;
  }

  async shardIterator(
    streamArn: string,
    shardId: string,
    type: ShardIteratorType,
    sequenceNumber?: string,
  ): Promise<string | undefined> {
    const result = await this.call<{ ShardIterator?: string }>('GetShardIterator', {
      StreamArn: streamArn,
      ShardId: shardId,
      ShardIteratorType: type,
      ...(sequenceNumber ? { SequenceNumber: sequenceNumber } : {}),
    });
    return result.ShardIterator;
  }

  async records(
    iterator: string,
    limit = GET_RECORDS_LIMIT,
  ): Promise<{ records: WireStreamRecord[]; next: string | undefined }> {
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await this.call<{ Records?: WireStreamRecord[]; NextShardIterator?: string }>('GetRecords', {
          ShardIterator: iterator,
          Limit: limit,
        });
        return { records: result.Records ?? [], next: result.NextShardIterator };
      } catch (error: unknown) {
        if (!(error instanceof StreamsApiError && error.code === 'LimitExceededException')) throw error;
        this.throttledCalls++;
        if (attempt >= THROTTLE_RETRIES) throw error;
        await new Promise((resolve) => setTimeout(resolve, THROTTLE_BACKOFF_MS * 2 ** attempt));
      }
    }
  }
}
