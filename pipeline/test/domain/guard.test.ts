import { describe, expect, it } from 'vitest';
import { buildStreamRecord, guardFor, PIPES } from '../../src/index.ts';

const base = {
  orderId: 'o-1',
  customerEmail: 'ann@example.org',
  orderAmount: 150,
  orderStatus: 'pending',
  orderDate: '2026-11-24T10:00:00Z',
};
const standard = guardFor(PIPES.standard.rule);
const premium = guardFor(PIPES.premium.rule);

describe('standard guard', () => {
  it('passes a pending order over 100 from a real customer', () => {
    expect(standard.check(buildStreamRecord({ eventName: 'INSERT', newImage: base }))).toEqual({ verdict: 'pass' });
  });

  it.each([
    [{ orderAmount: 100 }, 'amount-over-100', /100/],
    [{ customerEmail: 'qa@test.com' }, 'email-not-test-com', /test\.com/],
    [{ customerEmail: 'qa@mail.test.com.au' }, 'email-not-test-com', /test\.com/],
    [{ orderStatus: 'delivered' }, 'status-pending-or-shipped', /delivered/],
  ])('rejects %j by clause %s', (change, clause, words) => {
    const verdict = standard.check(buildStreamRecord({ eventName: 'INSERT', newImage: { ...base, ...change } }));
    expect(verdict.verdict).toBe('reject');
    if (verdict.verdict === 'reject') {
      expect(verdict.clause).toBe(clause);
      expect(verdict.explanation).toMatch(words);
    }
  });

  it('passes 101 and rejects REMOVE events (no new image)', () => {
    expect(
      standard.check(buildStreamRecord({ eventName: 'MODIFY', newImage: { ...base, orderAmount: 101 } })).verdict,
    ).toBe('pass');
    const removed = standard.check(buildStreamRecord({ eventName: 'REMOVE', oldImage: base }));
    expect(removed).toMatchObject({ verdict: 'reject', clause: 'status-pending-or-shipped' });
  });

  it('rejects a malformed amount instead of guessing a number', () => {
    const record = buildStreamRecord({ eventName: 'INSERT', newImage: base });
    const amount = record.dynamodb.NewImage?.orderAmount;
    if (amount) Object.assign(amount, { N: 'lots' });
    expect(standard.check(record)).toMatchObject({ verdict: 'reject', clause: 'amount-over-100' });
  });
});

describe('premium guard', () => {
  const shipped = { ...base, orderStatus: 'shipped', orderAmount: 1500 };
  const pending = { ...base, orderAmount: 1500 };

  it('passes a MODIFY from pending to shipped above 1,000', () => {
    expect(
      premium.check(buildStreamRecord({ eventName: 'MODIFY', oldImage: pending, newImage: shipped })).verdict,
    ).toBe('pass');
  });

  it('rejects exactly 1,000 by the amount clause', () => {
    const verdict = premium.check(
      buildStreamRecord({
        eventName: 'MODIFY',
        oldImage: { ...pending, orderAmount: 1000 },
        newImage: { ...shipped, orderAmount: 1000 },
      }),
    );
    expect(verdict).toMatchObject({ verdict: 'reject', clause: 'amount-over-1000' });
  });

  it('rejects an INSERT and a shipped-to-shipped change by the right clause', () => {
    expect(premium.check(buildStreamRecord({ eventName: 'INSERT', newImage: shipped }))).toMatchObject({
      clause: 'event-is-modify',
    });
    expect(
      premium.check(buildStreamRecord({ eventName: 'MODIFY', oldImage: shipped, newImage: shipped })),
    ).toMatchObject({
      clause: 'was-pending',
    });
  });
});
