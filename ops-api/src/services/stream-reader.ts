import {
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as SdkStreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { PipeDlqMessage, StreamRecord } from '@orderflow/pipeline';

export type StreamRead =
  | { readonly stale: false; readonly records: StreamRecord[] }
  | { readonly stale: true; readonly reason: string };

/** Errors meaning "the stream no longer holds these records" (24-hour retention, or the stream was replaced). */
const GONE = new Set(['TrimmedDataAccessException', 'ResourceNotFoundException', 'ExpiredIteratorException']);
/** GetRecords pages to follow before giving up on reaching the end sequence (an open shard can answer empty pages). */
const MAX_PAGES = 8;

/**
 * Re-reads the records a DLQ message stands for: GetShardIterator(AT_SEQUENCE_NUMBER = start) and GetRecords until
 * the end sequence number (DESIGN.md fact 7; DynamoDB Streams API reference, GetShardIterator), shaped as Pipes
 * delivers them to a target (Pipes adds `eventSourceARN`; `ApproximateCreationDateTime` is epoch seconds).
 */
export class StreamReader {
  constructor(private readonly streams: DynamoDBStreamsClient) {}

  async readBatch(info: PipeDlqMessage['DDBStreamBatchInfo']): Promise<StreamRead> {
    const end = BigInt(info.endSequenceNumber);
    const records: StreamRecord[] = [];
    try {
      const first = await this.streams.send(
        new GetShardIteratorCommand({
          StreamArn: info.streamArn,
          ShardId: info.shardId,
          ShardIteratorType: 'AT_SEQUENCE_NUMBER',
          SequenceNumber: info.startSequenceNumber,
        }),
      );
      let iterator = first.ShardIterator;
      for (let page = 0; iterator && page < MAX_PAGES; page++) {
        const answer = await this.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
        for (const record of answer.Records ?? []) {
          const sequence = record.dynamodb?.SequenceNumber;
          if (!sequence || BigInt(sequence) > end) return { stale: false, records };
          records.push(toPipeRecord(record, info.streamArn));
          if (BigInt(sequence) === end) return { stale: false, records };
        }
        if ((answer.Records ?? []).length === 0 && records.length > 0) break;
        iterator = answer.NextShardIterator;
      }
    } catch (error: unknown) {
      const name = (error as { name?: string }).name ?? '';
      if (GONE.has(name)) return { stale: true, reason: `the stream no longer holds these records (${name})` };
      throw error;
    }
    if (records.length === 0) return { stale: true, reason: 'the stream returned no records in this range' };
    return { stale: false, records };
  }
}

function toPipeRecord(record: SdkStreamRecord, streamArn: string): StreamRecord {
  const dynamodb = record.dynamodb ?? {};
  const created = dynamodb.ApproximateCreationDateTime;
  return {
    eventID: record.eventID ?? '',
    eventName: (record.eventName ?? 'MODIFY') as StreamRecord['eventName'],
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion ?? '',
    eventSourceARN: streamArn,
    dynamodb: {
      ...(created ? { ApproximateCreationDateTime: Math.floor(new Date(created).getTime() / 1000) } : {}),
      Keys: (dynamodb.Keys ?? {}) as StreamRecord['dynamodb']['Keys'],
      ...(dynamodb.NewImage ? { NewImage: dynamodb.NewImage as StreamRecord['dynamodb']['Keys'] } : {}),
      ...(dynamodb.OldImage ? { OldImage: dynamodb.OldImage as StreamRecord['dynamodb']['Keys'] } : {}),
      SequenceNumber: dynamodb.SequenceNumber ?? '0',
      SizeBytes: dynamodb.SizeBytes ?? 0,
      StreamViewType: (dynamodb.StreamViewType ?? 'NEW_AND_OLD_IMAGES') as StreamRecord['dynamodb']['StreamViewType'],
    },
  };
}
