import { describe, expect, it } from 'vitest';
import { account, type Observations, type RecordFact } from './ledger.ts';

const fact = (eventId: string, overrides: Partial<RecordFact> = {}): RecordFact => ({
  eventId,
  orderId: `o-${eventId}`,
  accepted: { standard: true, premium: false },
  poison: false,
  ...overrides,
});

function seen(overrides: Partial<Observations> = {}): Observations {
  return {
    deliveries: new Map(),
    redeliveredAcrossKill: new Set(),
    completed: () => false,
    inDlq: { standard: new Set(), premium: new Set() },
    journaled: () => false,
    ...overrides,
  };
}

describe('chaos ledger', () => {
  it('counts a record delivered once as processed once', () => {
    const ledger = account(
      'before-redrive',
      'standard',
      [fact('a')],
      seen({ deliveries: new Map([['standard:a', 1]]) }),
    );
    expect(ledger).toMatchObject({ accepted: 1, processedOnce: 1, lost: 0, duplicated: 0 });
  });

  it('counts a second delivery of the same record as a duplicate', () => {
    const ledger = account(
      'after-redrive',
      'standard',
      [fact('a')],
      seen({ deliveries: new Map([['standard:a', 2]]) }),
    );
    expect(ledger.duplicated).toBe(1);
  });

  it('tells a redelivery across the kill from a duplicate', () => {
    const deliveries = new Map([['standard:a', 2]]);
    const across = account(
      'after-redrive',
      'standard',
      [fact('a')],
      seen({ deliveries, redeliveredAcrossKill: new Set(['standard:a']) }),
    );
    expect(across).toMatchObject({ redeliveredAcrossKill: 1, duplicated: 0 });
    const thrice = new Map([['standard:a', 3]]);
    expect(
      account(
        'after-redrive',
        'standard',
        [fact('a')],
        seen({ deliveries: thrice, redeliveredAcrossKill: new Set(['standard:a']) }),
      ).duplicated,
    ).toBe(1);
  });

  it('counts an accepted record with no effect and no DLQ message as lost', () => {
    expect(account('before-redrive', 'standard', [fact('a')], seen()).lost).toBe(1);
  });

  it('counts a record processed (COMPLETED) whose notification never arrived as lost', () => {
    const ledger = account('after-redrive', 'standard', [fact('a')], seen({ completed: () => true }));
    expect(ledger).toMatchObject({ lost: 1, processedOnce: 0 });
  });

  it('accepts a DLQ message as the outcome only before the redrive', () => {
    const inDlq = { standard: new Set(['a']), premium: new Set<string>() };
    const before = account('before-redrive', 'standard', [fact('a')], seen({ inDlq, journaled: () => true }));
    const after = account('after-redrive', 'standard', [fact('a')], seen({ inDlq, journaled: () => true }));
    expect(before).toMatchObject({ inDlqWithJournal: 1, lost: 0 });
    expect(after.lost).toBe(1);
  });

  it('counts a processed record the rule rejects', () => {
    const record = fact('a', { accepted: { standard: false, premium: false } });
    const ledger = account('before-redrive', 'standard', [record], seen({ completed: () => true }));
    expect(ledger.processedNonMatching).toBe(1);
  });

  it('requires a journal entry for a poison record', () => {
    const inDlq = { standard: new Set(['a']), premium: new Set<string>() };
    const poison = fact('a', { poison: true });
    expect(account('before-redrive', 'standard', [poison], seen({ inDlq })).lost).toBe(1);
    expect(
      account('after-redrive', 'standard', [poison], seen({ journaled: () => true })).poisonDiscardedWithJournal,
    ).toBe(1);
  });
});
