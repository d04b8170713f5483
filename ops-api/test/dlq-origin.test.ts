import { describe, expect, it } from 'vitest';
import { DlqOrigin } from '../src/services/dlq-origin.ts';

/** As in AWS: this stack's pipes, its orders table's stream, and the account its DLQ URLs name. */
const origin = new DlqOrigin({
  region: 'eu-west-1',
  streamRegion: 'eu-west-1',
  ordersTable: 'Orderflow-OrdersTable',
  pipeNames: { standard: 'orderflow-standard', premium: 'orderflow-premium' },
  dlqUrls: {
    standard: 'https://sqs.eu-west-1.amazonaws.com/123456789012/Orderflow-StandardDlq',
    premium: 'https://sqs.eu-west-1.amazonaws.com/123456789012/Orderflow-PremiumDlq',
  },
});
const stream = 'arn:aws:dynamodb:eu-west-1:123456789012:table/Orderflow-OrdersTable/stream/2026-11-24T10:00:00.000';
const body = (overrides: { pipe?: string; stream?: string } = {}) =>
  JSON.stringify({
    context: {
      partnerResourceArn: overrides.pipe ?? 'arn:aws:pipes:eu-west-1:123456789012:pipe/orderflow-standard',
      condition: 'RetryAttemptsExhausted',
    },
    version: '1.0',
    timestamp: '2026-11-24T10:00:00Z',
    DDBStreamBatchInfo: {
      shardId: 'shardId-000001',
      startSequenceNumber: '100',
      endSequenceNumber: '200',
      approximateArrivalOfFirstRecord: '2026-11-24T10:00:00Z',
      approximateArrivalOfLastRecord: '2026-11-24T10:00:00Z',
      batchSize: 2,
      streamArn: overrides.stream ?? stream,
    },
  });

describe('DlqOrigin', () => {
  it("accepts this stack's pipe and any stream label of its orders table", async () => {
    await expect(origin.parse('standard', body())).resolves.toMatchObject({ DDBStreamBatchInfo: { batchSize: 2 } });
    await expect(
      origin.parse('standard', body({ stream: stream.replace('2026-11-24', '2026-01-01') })),
    ).resolves.toBeTruthy();
  });

  it.each([
    ['another account', { stream: stream.replace('123456789012', '210987654321') }, 'streamArn'],
    ['another region', { stream: stream.replace(':eu-west-1:', ':us-east-1:') }, 'streamArn'],
    ['another table', { stream: stream.replace('Orderflow-OrdersTable', 'Shop-OrdersTable') }, 'streamArn'],
    ['the other pipe', { pipe: 'arn:aws:pipes:eu-west-1:123456789012:pipe/orderflow-premium' }, 'partnerResourceArn'],
    [
      'a pipe of another account',
      { pipe: 'arn:aws:pipes:eu-west-1:210987654321:pipe/orderflow-standard' },
      'partnerResourceArn',
    ],
    [
      'a pipe of another region',
      { pipe: 'arn:aws:pipes:us-east-1:123456789012:pipe/orderflow-standard' },
      'partnerResourceArn',
    ],
  ])('refuses a body naming %s, saying which field', async (_what, overrides, field) => {
    await expect(origin.parse('standard', body(overrides))).rejects.toThrow(new RegExp(`${field}: .* is not`));
  });
});
