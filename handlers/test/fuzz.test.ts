import { JOURNAL_RECORD_MAX_BYTES } from '@orderflow/pipeline/facts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { processBatch } from '../src/processing/batch.ts';
import { journalFailureFields } from '../src/processing/journal.ts';
import { captureOutput, standardRecord, testDependencies } from './support.ts';

type StreamRecordFixture = ReturnType<typeof standardRecord>;
type Mutation = (record: StreamRecordFixture) => unknown;

const broken = (name: string, mutate: Mutation) => fc.constant({ name, mutate });
const withImageField = (record: StreamRecordFixture, field: string, value: unknown) => ({
  ...record,
  dynamodb: { ...record.dynamodb, NewImage: { ...record.dynamodb.NewImage, [field]: value } },
});

/** Ways a delivered element can be broken: envelope damage, image damage, type confusion, huge values. */
const mutation: fc.Arbitrary<{ name: string; mutate: Mutation }> = fc.oneof(
  broken('no images', (r) => ({ ...r, dynamodb: { ...r.dynamodb, NewImage: undefined } })),
  broken('no dynamodb', (r) => ({ ...r, dynamodb: undefined })),
  broken('no eventID', ({ eventID: _, ...r }) => r),
  broken('numeric eventID', (r) => ({ ...r, eventID: 42 })),
  broken('bad sequence number', (r) => ({ ...r, dynamodb: { ...r.dynamodb, SequenceNumber: 'x' } })),
  broken('amount as S', (r) => withImageField(r, 'orderAmount', { S: '150' })),
  broken('amount not a number', (r) => withImageField(r, 'orderAmount', { N: 'abc' })),
  fc.string({ maxLength: 20 }).map((status) => ({
    name: 'unknown status',
    mutate: (r: StreamRecordFixture) => withImageField(r, 'orderStatus', { S: status }),
  })),
  fc.integer({ min: 129, max: 600_000 }).map((length) => ({
    name: 'huge orderId',
    mutate: (r: StreamRecordFixture) => withImageField(r, 'orderId', { S: 'x'.repeat(length) }),
  })),
  fc.string().map((email) => ({
    name: 'odd email',
    mutate: (r: StreamRecordFixture) => withImageField(r, 'customerEmail', { S: email }),
  })),
  fc.anything().map((value) => ({ name: 'arbitrary JSON', mutate: () => value })),
);

const element = fc.oneof(
  fc.constant({ good: true as const, make: () => standardRecord() as unknown }),
  mutation.map((m) => ({ good: false as const, make: () => m.mutate(standardRecord()) })),
);

describe('fuzz: malformed records never escape the batch', () => {
  it('every element is processed, rejected or a journaled failure; good records are processed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(element, { minLength: 1, maxLength: 12 }), async (elements) => {
        const deps = testDependencies('standard');
        const batch = elements.map((e) => e.make());
        const { result } = await captureOutput(() => processBatch(batch, deps));
        expect(result.outcomes).toHaveLength(batch.length);

        const failed = result.outcomes.flatMap((o, i) => (o.outcome === 'failed' ? [i] : []));
        expect(deps.journal.failures).toHaveLength(failed.length);
        const expectedIds = new Set(
          failed.map((i) => {
            const id = (batch[i] as { eventID?: unknown } | null)?.eventID;
            return typeof id === 'string' && id !== '' ? id : '';
          }),
        );
        expect(new Set(result.response.batchItemFailures.map((f) => f.itemIdentifier))).toEqual(expectedIds);

        elements.forEach((e, i) => {
          if (e.good) expect(result.outcomes[i]?.outcome).toBe('processed');
        });
        for (const failure of deps.journal.failures) {
          const fields = journalFailureFields(failure);
          expect(Buffer.byteLength(fields.record, 'utf8')).toBeLessThanOrEqual(JOURNAL_RECORD_MAX_BYTES);
          expect(fields.errorMessage.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 60 },
    );
  });
});
