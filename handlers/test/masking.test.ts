import { describe, expect, it } from 'vitest';
import { processBatch } from '../src/processing/batch.ts';
import { maskEmail } from '../src/processing/masking.ts';
import { captureOutput, jsonLines, standardRecord, testDependencies } from './support.ts';

describe('email masking', () => {
  it('keeps the first character and the domain', () => {
    expect(maskEmail('jane.doe@example.org')).toBe('j***@example.org');
    expect(maskEmail('customer x@y.co and b.c+tag@mail.example.com')).toBe(
      'customer x***@y.co and b***@mail.example.com',
    );
    expect(maskEmail('no email here')).toBe('no email here');
  });

  it('masks every email in the real log lines of processed, rejected and failed records', async () => {
    const deps = testDependencies('standard');
    const records = [
      standardRecord({ customerEmail: 'jane.doe@example.org' }),
      standardRecord({ customerEmail: 'qa.person@test.com' }),
      // Fails validation; the error message quotes the bad value, which contains an address.
      standardRecord({ customerEmail: 'broken@@example.org' }),
    ];
    const { lines } = await captureOutput(() => processBatch(records, deps));
    const output = lines.join('\n');
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const raw of ['jane.doe@example.org', 'qa.person@test.com', 'broken@@example.org', 'broken@']) {
      expect(output).not.toContain(raw);
    }
    const processed = jsonLines(lines).find((line) => line.message === 'record processed');
    expect(processed).toMatchObject({
      customerEmail: 'j***@example.org',
      orderId: records[0]?.dynamodb.Keys.orderId?.S,
      eventId: records[0]?.eventID,
    });
    // The effects (and so the downstream notification) still see the real address.
    expect(deps.applied[0]?.order.customerEmail).toBe('jane.doe@example.org');
  });
});
