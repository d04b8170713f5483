import type { DlqMessage, DlqMessageDetail, RedriveJob, ResolvedRecord } from '@orderflow/ops-api/schemas';
import type { PipeKey } from '@orderflow/pipeline/facts';

export function record(overrides: Partial<ResolvedRecord> = {}): ResolvedRecord {
  const orderId = overrides.orderId ?? 'order-1';
  return {
    eventId: `event-${orderId}`,
    sequenceNumber: '100',
    eventName: 'INSERT',
    orderId,
    newImage: { orderId, customerEmail: 'ada@example.com', orderAmount: 150, orderStatus: 'pending' },
    oldImage: null,
    source: 'stream',
    error: {
      name: 'DownstreamError',
      message: 'notification queue unavailable',
      classification: 'transient',
      attempts: 4,
      firstFailureAt: '2026-01-15T10:00:00.000Z',
      lastFailureAt: '2026-01-15T10:01:00.000Z',
    },
    currentItem: null,
    ...overrides,
  };
}

export function message(
  id: string,
  { batchSize = 1, ...overrides }: Partial<DlqMessage> & { batchSize?: number } = {},
  pipe: PipeKey = 'standard',
): DlqMessage {
  return {
    id,
    pipe,
    sentAt: '2026-01-15T10:02:00.000Z',
    receiveCount: 1,
    condition: 'RetryAttemptsExhausted',
    batch: {
      shardId: 'shardId-1',
      startSequenceNumber: '100',
      endSequenceNumber: '200',
      approximateArrivalOfFirstRecord: '2026-01-15T10:00:00.000Z',
      approximateArrivalOfLastRecord: '2026-01-15T10:00:01.000Z',
      batchSize,
      streamArn: 'arn:aws:dynamodb:us-east-1:000000000000:table/OrdersTable/stream/2026-01-01T00:00:00.000',
    },
    malformed: null,
    stale: false,
    records: [record({ orderId: `order-${id}` })],
    ...overrides,
  };
}

/** A message as the single-message route answers it: with the body SQS delivered (what the pipe wrote). */
export function messageDetail(listed: DlqMessage): DlqMessageDetail {
  const body = {
    context: {
      partnerResourceArn: `arn:aws:pipes:us-east-1:000000000000:pipe/orderflow-${listed.pipe}`,
      condition: listed.condition,
    },
    version: '1.0',
    timestamp: listed.sentAt,
    DDBStreamBatchInfo: listed.batch,
  };
  return { ...listed, body: JSON.stringify(body) };
}

export function job(overrides: Partial<RedriveJob> = {}): RedriveJob {
  return {
    jobId: 'job-1',
    pipe: 'standard',
    dryRun: false,
    ratePerSecond: 20,
    actor: 'local-operator',
    status: 'running',
    createdAt: '2026-01-15T10:05:00.000Z',
    finishedAt: null,
    progress: { total: 2, done: 0 },
    note: null,
    results: [],
    ...overrides,
  };
}
