import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod/mini';
import { formatIssues } from '../orders/order.ts';
import '../zod-locale.ts';
import { STREAM_EVENT_NAMES, type StreamEventName } from './stream-event.ts';

export type AttributeMap = Record<string, AttributeValue>;

/**
 * A DynamoDB stream record as EventBridge Pipes delivers it to a target (one element of the bare array).
 * Shape: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-dynamodb.html
 */
export interface StreamRecord {
  eventID: string;
  eventName: StreamEventName;
  eventVersion: string;
  eventSource: 'aws:dynamodb';
  awsRegion: string;
  eventSourceARN: string;
  dynamodb: {
    ApproximateCreationDateTime?: number;
    Keys: AttributeMap;
    NewImage?: AttributeMap;
    OldImage?: AttributeMap;
    SequenceNumber: string;
    SizeBytes: number;
    StreamViewType: 'NEW_AND_OLD_IMAGES' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'KEYS_ONLY';
  };
}

const attributeMap = z.record(z.string(), z.record(z.string(), z.unknown()));

/** Structural check of the envelope; image contents are checked by the order schema. */
export const streamRecordSchema = z.object({
  eventID: z.string().check(z.minLength(1, 'must be a non-empty string')),
  eventName: z.enum(STREAM_EVENT_NAMES),
  eventVersion: z.string(),
  eventSource: z.literal('aws:dynamodb'),
  awsRegion: z.string(),
  eventSourceARN: z.string(),
  dynamodb: z.object({
    ApproximateCreationDateTime: z.optional(z.number()),
    Keys: attributeMap,
    NewImage: z.optional(attributeMap),
    OldImage: z.optional(attributeMap),
    SequenceNumber: z.string().check(z.regex(/^\d+$/, 'must be a decimal sequence number')),
    SizeBytes: z.int().check(z.gte(0)),
    StreamViewType: z.enum(['NEW_AND_OLD_IMAGES', 'NEW_IMAGE', 'OLD_IMAGE', 'KEYS_ONLY']),
  }),
});

export class StreamRecordError extends Error {
  override readonly name = 'StreamRecordError';
  constructor(
    readonly problems: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`malformed stream record: ${problems.join('; ')}`, options);
  }
}

/** Validates the envelope of one record; throws {@link StreamRecordError} naming each bad field. */
export function parseStreamRecord(value: unknown): StreamRecord {
  const result = streamRecordSchema.safeParse(value);
  if (result.success) return result.data as unknown as StreamRecord;
  throw new StreamRecordError(formatIssues(result.error), { cause: result.error });
}

/** The image as plain JSON (numbers as numbers), or undefined when the record carries none. */
export function unmarshallImage(image: AttributeMap | undefined): Record<string, unknown> | undefined {
  return image ? unmarshall(image as Parameters<typeof unmarshall>[0], { wrapNumbers: false }) : undefined;
}

/** The order key of a record (from `Keys`, present on every event type). */
export function orderIdOf(record: Pick<StreamRecord, 'dynamodb'>): string | undefined {
  const key = record.dynamodb?.Keys?.orderId;
  return key && 'S' in key && typeof key.S === 'string' ? key.S : undefined;
}

export interface StreamRecordInput {
  eventName: StreamEventName;
  newImage?: Record<string, unknown> | null;
  oldImage?: Record<string, unknown> | null;
  eventID?: string;
  sequenceNumber?: string;
  region?: string;
  streamArn?: string;
  approximateCreationDateTime?: number;
}

/**
 * A stream record as DynamoDB Streams would produce it for plain order images (numbers as numbers): used by the
 * filter lab, the demo traffic and tests. Keys come from whichever image has `orderId`.
 */
export function buildStreamRecord(input: StreamRecordInput): StreamRecord {
  const newImage = input.newImage ? marshallImage(input.newImage) : undefined;
  const oldImage = input.oldImage ? marshallImage(input.oldImage) : undefined;
  const orderId = (input.newImage ?? input.oldImage)?.orderId;
  const keys: AttributeMap = typeof orderId === 'string' ? { orderId: { S: orderId } } : {};
  const region = input.region ?? 'us-east-1';
  const sizeBytes = new TextEncoder().encode(JSON.stringify({ keys, newImage, oldImage })).length;
  return {
    eventID: input.eventID ?? globalThis.crypto.randomUUID().replaceAll('-', ''),
    eventName: input.eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    eventSourceARN:
      input.streamArn ?? `arn:aws:dynamodb:${region}:000000000000:table/Orders/stream/2026-01-01T00:00:00.000`,
    dynamodb: {
      ApproximateCreationDateTime: input.approximateCreationDateTime ?? Math.floor(Date.now() / 1000),
      Keys: keys,
      ...(newImage ? { NewImage: newImage } : {}),
      ...(oldImage ? { OldImage: oldImage } : {}),
      SequenceNumber: input.sequenceNumber ?? '100000000000000000001',
      SizeBytes: sizeBytes,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

function marshallImage(image: Record<string, unknown>): AttributeMap {
  return marshall(image, { removeUndefinedValues: true, convertClassInstanceToMap: false }) as AttributeMap;
}

/**
 * A record as DynamoDB Streams' GetRecords answers it (the AWS SDK's `_Record` of `@aws-sdk/client-dynamodb-streams`):
 * the fields {@link pipeRecordOf} reads, typed structurally so that this package needs no Streams client.
 */
export interface GetRecordsRecord {
  readonly eventID?: string | undefined;
  readonly eventName?: string | undefined;
  readonly eventVersion?: string | undefined;
  readonly awsRegion?: string | undefined;
  readonly dynamodb?:
    | {
        readonly ApproximateCreationDateTime?: Date | undefined;
        readonly Keys?: Record<string, unknown> | undefined;
        readonly NewImage?: Record<string, unknown> | undefined;
        readonly OldImage?: Record<string, unknown> | undefined;
        readonly SequenceNumber?: string | undefined;
        readonly SizeBytes?: number | undefined;
        readonly StreamViewType?: string | undefined;
      }
    | undefined;
}

/**
 * A record as GetRecords returns it, shaped as Pipes delivers it to a target: epoch seconds, the stream ARN, and the
 * table's Region, which is the stream ARN's (DynamoDB Local writes its own, `ddblocal`, into what it returns). Used by
 * every reader that replays or keeps stream records (the dead-letter archiver, the ops API's stream reader).
 */
export function pipeRecordOf(record: GetRecordsRecord, streamArn: string): StreamRecord {
  const dynamodb = record.dynamodb ?? {};
  const created = dynamodb.ApproximateCreationDateTime;
  const image = (value: Record<string, unknown>) => value as AttributeMap;
  return {
    eventID: record.eventID ?? '',
    eventName: (record.eventName ?? 'MODIFY') as StreamRecord['eventName'],
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: streamArn.split(':')[3] || (record.awsRegion ?? ''),
    eventSourceARN: streamArn,
    dynamodb: {
      ...(created ? { ApproximateCreationDateTime: Math.floor(new Date(created).getTime() / 1000) } : {}),
      Keys: image(dynamodb.Keys ?? {}),
      ...(dynamodb.NewImage ? { NewImage: image(dynamodb.NewImage) } : {}),
      ...(dynamodb.OldImage ? { OldImage: image(dynamodb.OldImage) } : {}),
      SequenceNumber: dynamodb.SequenceNumber ?? '0',
      SizeBytes: dynamodb.SizeBytes ?? 0,
      StreamViewType: (dynamodb.StreamViewType ?? 'NEW_AND_OLD_IMAGES') as StreamRecord['dynamodb']['StreamViewType'],
    },
  };
}
