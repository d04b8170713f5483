import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildStreamRecord,
  compilePattern,
  EmptyPipeFilterError,
  filterCriteriaFor,
  guardFor,
  PIPES,
  pipeFilterFor,
  pipeFilterOf,
  requirePipeFilter,
  typedView,
  validatePattern,
} from '../../src/index.ts';
import { orderImage, streamRecord } from './arbitraries.ts';

const order = {
  orderId: 'o-1',
  customerEmail: 'ann@example.org',
  orderAmount: 150,
  orderStatus: 'pending',
  orderDate: '2026-11-24T10:00:00Z',
};

describe('seed filters, written literally, are silently wrong in AWS', () => {
  // The seed README's standard filter as a naive translation (numeric on N, wildcard exclusion).
  const seedStandardNumeric = { dynamodb: { NewImage: { orderAmount: { N: [{ numeric: ['>', 100] }] } } } };

  it('a numeric matcher on an N attribute matches no raw stream record, not even a 150 order', () => {
    const raw = buildStreamRecord({ eventName: 'INSERT', newImage: order });
    expect(compilePattern(seedStandardNumeric, 'pipes').matches(raw)).toBe(false);
    // ...while the same pattern on the typed view (what the guard sees) does match.
    expect(compilePattern(seedStandardNumeric, 'eventbridge').matches(typedView(raw))).toBe(true);
  });

  it('the email exclusion cannot be a Pipes filter at all', () => {
    const exclusion = {
      dynamodb: { NewImage: { customerEmail: { S: [{ 'anything-but': { wildcard: '*test.com*' } }] } } },
    };
    expect(() => validatePattern(exclusion, 'pipes')).toThrow(/wildcard/);
  });

  it('the derived filters contain no numeric matcher and no unsupported operator', () => {
    for (const pipe of Object.values(PIPES)) {
      const text = JSON.stringify(pipeFilterOf(pipe.key));
      expect(text).not.toContain('numeric');
      expect(text).not.toContain('wildcard');
      expect(() => validatePattern(pipeFilterOf(pipe.key), 'pipes')).not.toThrow();
    }
  });

  it('the derived standard filter matches a qualifying raw record', () => {
    const raw = buildStreamRecord({ eventName: 'INSERT', newImage: order });
    expect(compilePattern(pipeFilterOf('standard'), 'pipes').matches(raw)).toBe(true);
  });
});

describe('pipeFilterFor', () => {
  it('keeps supported constraints, weakens N and unsupported fields to exists', () => {
    expect(pipeFilterOf('standard')).toEqual({
      dynamodb: {
        NewImage: {
          orderStatus: { S: ['pending', 'shipped'] },
          orderAmount: { N: [{ exists: true }] },
          customerEmail: { S: [{ exists: true }] },
        },
      },
    });
    // eventName is added by the Pipes poller and cannot be filtered on: the guard checks it (see below).
    expect(pipeFilterOf('premium')).toEqual({
      dynamodb: {
        OldImage: { orderStatus: { S: ['pending'] } },
        NewImage: { orderStatus: { S: ['shipped'] }, orderAmount: { N: [{ exists: true }] } },
      },
    });
  });

  it('drops a constraint that can match a missing field instead of demanding presence', () => {
    expect(pipeFilterFor({ a: [{ exists: false }], b: { N: [{ numeric: ['<', 5] }] } })).toEqual({
      a: [{ exists: false }],
      b: { N: [{ exists: true }] },
    });
    // anything-but+prefix is unsupported in Pipes; whether it implies presence is decided by the engine.
    const weakened = pipeFilterFor({ c: [{ 'anything-but': { prefix: 'x' } }], d: ['keep'] });
    expect(weakened.d).toEqual(['keep']);
    expect(weakened.c === undefined || JSON.stringify(weakened.c) === '[{"exists":true}]').toBe(true);
  });

  it('keeps weakened $or branches and drops an $or whose branch becomes empty', () => {
    const rule = { $or: [{ x: ['a'] }, { y: { N: [{ numeric: ['>', 1] }] } }] };
    expect(pipeFilterFor(rule)).toEqual({ $or: [{ x: ['a'] }, { y: { N: [{ exists: true }] } }] });
    const emptied = { k: ['v'], $or: [{ x: ['a'] }, { y: [{ wildcard: '*z*' }] }] };
    const result = pipeFilterFor(emptied);
    expect(result.k).toEqual(['v']);
  });

  it('refuses a rule whose derived filter would be empty, naming the pipe', () => {
    // Under an N attribute every matcher is weakened; `exists:false` matches a missing field, so nothing is left.
    const loose = { dynamodb: { NewImage: { discount: { N: [{ exists: false }] } } } };
    expect(() => requirePipeFilter('loose', loose)).toThrow(EmptyPipeFilterError);
    expect(() => requirePipeFilter('loose', loose)).toThrow(/pipe 'loose'.*empty/);
    const tight = { ...loose, userIdentity: { type: ['Service'] } };
    expect(requirePipeFilter('tight', tight)).toEqual({ userIdentity: { type: ['Service'] } });
  });

  it('drops root fields the Pipes poller adds, wherever the rule names them, and keeps same-named attributes', () => {
    const rule = {
      eventName: ['MODIFY'],
      'eventID.part': ['x'],
      awsRegion: { nested: ['us-east-1'] },
      dynamodb: { NewImage: { eventName: { S: ['kept'] }, eventSource: { N: [{ numeric: ['>', 1] }] } } },
      $or: [{ eventSource: ['aws:dynamodb'] }, { x: ['y'] }],
    };
    expect(pipeFilterFor(rule)).toEqual({
      dynamodb: { NewImage: { eventName: { S: ['kept'] }, eventSource: { N: [{ exists: true }] } } },
    });
    expect(pipeFilterFor({ $or: [{ eventName: ['INSERT'], a: ['1'] }, { b: ['2'] }] })).toEqual({
      $or: [{ a: ['1'] }, { b: ['2'] }],
    });
    expect(() => validatePattern(pipeFilterFor(rule), 'pipes')).not.toThrow();
  });

  it('refuses a rule constrained only by poller-added fields: its filter would pass every record', () => {
    expect(() => requirePipeFilter('modify-only', { eventName: ['MODIFY'] })).toThrow(/pipe 'modify-only'.*empty/);
  });

  it('renders FilterCriteria as CloudFormation expects', () => {
    expect(filterCriteriaFor({ a: ['b'] })).toEqual({ Filters: [{ Pattern: '{"a":["b"]}' }] });
  });

  it('property: whenever the rule accepts a record, the derived pipe filter accepts the raw record', () => {
    for (const pipe of Object.values(PIPES)) {
      const filter = compilePattern(pipeFilterOf(pipe.key), 'pipes');
      const rule = compilePattern(pipe.rule.pattern, 'eventbridge');
      fc.assert(
        fc.property(streamRecord, (record) => {
          if (rule.matches(typedView(record))) expect(filter.matches(record)).toBe(true);
        }),
        { numRuns: 2000 },
      );
    }
  });

  it('property: with NEW_AND_OLD_IMAGES, the premium filter passes MODIFY records only, though it has no eventName', () => {
    // A stream with NEW_AND_OLD_IMAGES writes NewImage on INSERT, both images on MODIFY, OldImage on REMOVE.
    const consistent = fc
      .tuple(fc.constantFrom('INSERT' as const, 'MODIFY' as const, 'REMOVE' as const), orderImage, orderImage)
      .map(([eventName, next, previous]) =>
        buildStreamRecord({
          eventName,
          newImage: eventName === 'REMOVE' ? null : next,
          oldImage: eventName === 'INSERT' ? null : previous,
          eventID: 'e1',
        }),
      );
    const filter = compilePattern(pipeFilterOf('premium'), 'pipes');
    let passed = 0;
    fc.assert(
      fc.property(consistent, (record) => {
        if (!filter.matches(record)) return;
        passed++;
        expect(record.eventName).toBe('MODIFY');
      }),
      { numRuns: 2000 },
    );
    expect(passed).toBeGreaterThan(0);
    // The guard still demands the MODIFY: a record that claims another event name is rejected by that clause.
    const shipped = buildStreamRecord({
      eventName: 'INSERT',
      newImage: { ...order, orderAmount: 5000, orderStatus: 'shipped' },
      oldImage: { ...order, orderAmount: 5000, orderStatus: 'pending' },
    });
    expect(filter.matches(shipped)).toBe(true);
    expect(guardFor(PIPES.premium.rule).check(shipped)).toMatchObject({ verdict: 'reject', clause: 'event-is-modify' });
  });

  it('property: the guard agrees with the full rule on the typed view', () => {
    for (const pipe of Object.values(PIPES)) {
      const guard = guardFor(pipe.rule);
      const rule = compilePattern(pipe.rule.pattern, 'eventbridge');
      fc.assert(
        fc.property(streamRecord, (record) => {
          expect(guard.check(record).verdict === 'pass').toBe(rule.matches(typedView(record)));
        }),
        { numRuns: 1000 },
      );
    }
  });
});
