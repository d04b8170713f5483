import { failedIdentifiers } from '@orderflow/pipeline/facts';
import { journalEntrySchema } from '@orderflow/pipeline/schemas';
import { describe, expect, it } from 'vitest';
import { InvalidBatchError, processBatch } from '../src/processing/batch.ts';
import { journalFailureFields } from '../src/processing/journal.ts';
import { captureOutput, emfMetrics, jsonLines, premiumRecord, standardRecord, testDependencies } from './support.ts';

describe('processBatch', () => {
  it('acknowledges a good batch sent as a bare array (Pipes) and as {Records} (event source mapping)', async () => {
    for (const wrap of [(r: unknown[]) => r, (r: unknown[]) => ({ Records: r })]) {
      const deps = testDependencies('standard');
      const records = [standardRecord(), standardRecord({ orderStatus: 'shipped' })];
      const { result } = await captureOutput(() => processBatch(wrap(records), deps));
      expect(result.response).toEqual({ batchItemFailures: [] });
      expect(deps.applied.map((a) => a.eventId)).toEqual(records.map((r) => r.eventID));
      expect(deps.applied[0]?.order.orderAmount).toBe(150);
    }
  });

  it('reports failures by eventID, not by SequenceNumber as Powertools does for event source mappings', async () => {
    const deps = testDependencies('standard');
    const bad = standardRecord({ customerEmail: 'not-an-email' });
    const good = standardRecord();
    const { result } = await captureOutput(() => processBatch([good, bad], deps));
    expect(result.response.batchItemFailures).toEqual([{ itemIdentifier: bad.eventID }]);
    expect(result.response.batchItemFailures[0]?.itemIdentifier).not.toBe(bad.dynamodb.SequenceNumber);
    // Read the way Pipes reads it: exactly the bad record is retried.
    expect(failedIdentifiers(result.response, [good, bad])).toEqual(new Set([bad.eventID]));
    expect(deps.applied.map((a) => a.eventId)).toEqual([good.eventID]);
  });

  it('acknowledges records the guard rejects and counts them by clause, without effects or journal', async () => {
    const deps = testDependencies('standard');
    const cheap = standardRecord({ orderAmount: 100 });
    const tester = standardRecord({ customerEmail: 'qa@test.com' });
    const { result, lines } = await captureOutput(async () => {
      const report = await processBatch([cheap, tester, standardRecord({ orderAmount: 99 })], deps);
      deps.metrics.publishStoredMetrics();
      return report;
    });
    expect(result.response.batchItemFailures).toEqual([]);
    expect(result.outcomes.map((o) => o.outcome)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(deps.applied).toEqual([]);
    expect(deps.journal.failures).toEqual([]);
    const metrics = emfMetrics(lines);
    const rejected = metrics.filter((m) => m.name === 'GuardRejected');
    expect(rejected).toEqual(
      expect.arrayContaining([
        {
          name: 'GuardRejected',
          value: 2,
          dimensions: { service: 'orderflow-test', Pipe: 'standard', Clause: 'amount-over-100' },
        },
        {
          name: 'GuardRejected',
          value: 1,
          dimensions: { service: 'orderflow-test', Pipe: 'standard', Clause: 'email-not-test-com' },
        },
      ]),
    );
    expect(metrics.find((m) => m.name === 'RecordsReceived')?.value).toBe(3);
    expect(metrics.find((m) => m.name === 'GuardPassed')?.value).toBe(0);
  });

  it('publishes the funnel metrics with the Pipe dimension and the order value of processed orders', async () => {
    const deps = testDependencies('premium');
    const { lines } = await captureOutput(async () => {
      await processBatch(
        [premiumRecord(), premiumRecord({ orderAmount: 3000 }), premiumRecord({ orderAmount: 'x' })],
        deps,
      );
      deps.metrics.publishStoredMetrics();
    });
    const byName = Object.fromEntries(emfMetrics(lines).map((m) => [m.name, m]));
    expect(byName.RecordsReceived?.value).toBe(3);
    // The third record's amount is a string: the typed view keeps it a string, so `numeric` rejects it.
    expect(byName.GuardPassed?.value).toBe(2);
    expect(byName.RecordsProcessed?.value).toBe(2);
    expect(byName.RecordsFailed?.value).toBe(0);
    expect(byName.OrderValue?.value).toBe(5500);
    expect(byName.RecordsProcessed?.dimensions).toEqual({ service: 'orderflow-test', Pipe: 'premium' });
  });

  it('journals a guard-passing invalid order as a permanent failure with the full record', async () => {
    const deps = testDependencies('standard');
    const bad = standardRecord({ orderDate: 'yesterday' });
    const { result, lines } = await captureOutput(async () => {
      const report = await processBatch([bad], deps);
      deps.metrics.publishStoredMetrics();
      return report;
    });
    expect(result.response.batchItemFailures).toEqual([{ itemIdentifier: bad.eventID }]);
    const [failure] = deps.journal.failures;
    expect(failure?.classification).toBe('permanent');
    const fields = journalFailureFields(failure ?? expect.fail('no journal entry'));
    expect(() =>
      journalEntrySchema.parse({ ...fields, attempts: 1, firstFailureAt: fields.lastFailureAt }),
    ).not.toThrow();
    expect(fields).toMatchObject({
      recordKey: `standard#${bad.eventID}`,
      eventId: bad.eventID,
      sequenceNumber: bad.dynamodb.SequenceNumber,
      orderId: bad.dynamodb.Keys.orderId?.S,
      errorName: 'OrderValidationError',
      recordTruncated: false,
      expiresAt: Math.floor(Date.parse('2026-11-24T10:00:00Z') / 1000) + 14 * 86_400,
    });
    expect(fields.errorMessage).toContain('orderDate');
    expect(JSON.parse(fields.record)).toEqual(bad);
    const metrics = emfMetrics(lines);
    expect(metrics.find((m) => m.name === 'RecordsFailed')?.value).toBe(1);
    expect(metrics.find((m) => m.name === 'JournalWrites')?.value).toBe(1);
  });

  it('fails a batch whose effects throw a transient error, and still reports when the journal is down', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client' });
    const deps = testDependencies('standard', {
      applyEffects: async () => {
        throw throttled;
      },
      journal: {
        async recordFailure() {
          throw new Error('journal table unavailable');
        },
      },
    });
    const records = [standardRecord(), standardRecord()];
    const { result, lines } = await captureOutput(() => processBatch(records, deps));
    // The whole batch failed: every identifier is returned, nothing is thrown.
    expect(result.response.batchItemFailures).toEqual(records.map((r) => ({ itemIdentifier: r.eventID })));
    expect(lines.some((line) => line.includes('failure journal write failed'))).toBe(true);
    expect(lines.some((line) => line.includes('"classification":"transient"'))).toBe(true);
  });

  it('reports an element that is not a stream record with the empty identifier, so Pipes retries the batch', async () => {
    const deps = testDependencies('standard');
    const good = standardRecord();
    const { result } = await captureOutput(() => processBatch([good, { hello: 'world' }, null], deps));
    expect(result.response.batchItemFailures).toEqual([{ itemIdentifier: '' }]);
    expect(failedIdentifiers(result.response, [good])).toBe('all');
    expect(deps.journal.failures).toHaveLength(2);
    expect(deps.journal.failures.map((f) => f.identity.eventId)).toEqual([
      expect.stringMatching(/^unidentified-[0-9a-f]{32}$/),
      expect.stringMatching(/^unidentified-[0-9a-f]{32}$/),
    ]);
    expect(deps.journal.failures.every((f) => f.classification === 'permanent')).toBe(true);
    expect(deps.applied.map((a) => a.eventId)).toEqual([good.eventID]);
  });

  it('holds back the later records of an order whose record failed, and only those', async () => {
    const transient = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const deps = testDependencies('standard');
    const applied = deps.applyEffects;
    deps.applied.length = 0;
    const a1 = standardRecord({ orderId: 'order-a' });
    const b1 = standardRecord({ orderId: 'order-b' });
    const a2 = standardRecord({ orderId: 'order-a', orderStatus: 'shipped' }, 'MODIFY');
    const rejected = standardRecord({ orderId: 'order-a', orderAmount: 10 }, 'MODIFY');
    const b2 = standardRecord({ orderId: 'order-b', orderStatus: 'shipped' }, 'MODIFY');
    const batch = [a1, b1, a2, rejected, b2];
    const failing = {
      ...deps,
      applyEffects: async (input: Parameters<typeof applied>[0]) => {
        if (input.eventId === a1.eventID) throw transient;
        return applied(input);
      },
    };
    const { result, lines } = await captureOutput(async () => {
      const report = await processBatch(batch, failing);
      deps.metrics.publishStoredMetrics();
      return report;
    });
    // Exactly the failed record and every later record of its order, in batch order.
    expect(result.response.batchItemFailures).toEqual([a1, a2, rejected].map((r) => ({ itemIdentifier: r.eventID })));
    expect(failedIdentifiers(result.response, batch)).toEqual(new Set([a1.eventID, a2.eventID, rejected.eventID]));
    expect(deps.applied.map((a) => a.eventId)).toEqual([b1.eventID, b2.eventID]);
    expect(result.outcomes.map((o) => o.outcome)).toEqual(['failed', 'processed', 'blocked', 'blocked', 'processed']);
    expect(result.outcomes[2]).toEqual({ outcome: 'blocked', eventId: a2.eventID, blockedBy: a1.eventID });
    // Only the record that failed is journaled; the blocked ones say what they wait for in the log.
    expect(deps.journal.failures.map((f) => f.identity.eventId)).toEqual([a1.eventID]);
    const blockedLines = jsonLines(lines).filter((l) => l.message?.toString().startsWith('record not run'));
    expect(blockedLines.map((l) => [l.eventId, l.orderId, l.blockedBy])).toEqual([
      [a2.eventID, 'order-a', a1.eventID],
      [rejected.eventID, 'order-a', a1.eventID],
    ]);
    const byName = Object.fromEntries(emfMetrics(lines).map((m) => [m.name, m.value]));
    expect(byName).toMatchObject({
      RecordsReceived: 5,
      GuardPassed: 3,
      RecordsProcessed: 2,
      RecordsFailed: 3,
      JournalWrites: 1,
    });
    // The blocked rejection was never screened, so it is not counted as rejected.
    expect(byName.GuardRejected).toBeUndefined();
    expect(jsonLines(lines).find((l) => l.message === 'batch done')).toMatchObject({
      received: 5,
      processed: 2,
      rejected: 0,
      failed: 3,
      blocked: 2,
    });
  });

  it('rejects a payload that is not a batch with a message saying what it got', async () => {
    const deps = testDependencies('standard');
    await expect(processBatch({ detail: {} }, deps)).rejects.toThrow(InvalidBatchError);
    await expect(processBatch({ detail: {} }, deps)).rejects.toThrow(/object with keys detail/);
    await expect(processBatch('[]', deps)).rejects.toThrow(/got string/);
  });
});
