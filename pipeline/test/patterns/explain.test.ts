import { describe, expect, it } from 'vitest';
import { explain } from '../../src/patterns/index.ts';

const standard = {
  dynamodb: {
    NewImage: {
      orderStatus: { S: ['pending', 'shipped'] },
      orderAmount: { N: [{ numeric: ['>', 100] }] },
      customerEmail: { S: [{ 'anything-but': { wildcard: '*test.com*' } }] },
    },
  },
};
const image = (status: string, amount: unknown, email: string) => ({
  dynamodb: { NewImage: { orderStatus: { S: status }, orderAmount: { N: amount }, customerEmail: { S: email } } },
});

describe('explain', () => {
  it('is empty on a match', () => {
    expect(explain(standard, image('pending', 150, 'a@example.com'))).toEqual({ matched: true, failures: [] });
  });

  it('names the field, the clause and the value that failed', () => {
    const { matched, failures } = explain(standard, image('pending', 100, 'a@example.com'));
    expect(matched).toBe(false);
    expect(failures).toEqual([
      {
        path: 'dynamodb.NewImage.orderAmount.N',
        clause: '[{"numeric":[">",100]}]',
        actual: 100,
        message: 'dynamodb.NewImage.orderAmount.N is 100, which is not > 100',
      },
    ]);
  });

  it('reports failures in pattern key order, first failing clause first', () => {
    const { failures } = explain(standard, image('cancelled', '150', 'a@test.com'));
    expect(failures.map((f) => f.message)).toEqual([
      'dynamodb.NewImage.orderStatus.S is "cancelled", which is not one of "pending", "shipped"',
      'dynamodb.NewImage.orderAmount.N is "150", which is not a JSON number (numeric matching applies to numbers only)',
      'dynamodb.NewImage.customerEmail.S "a@test.com" matches the excluded wildcard "*test.com*"',
    ]);
  });

  it('says when a field is missing, and when it must be absent', () => {
    expect(explain({ a: { b: ['x'] } }, {}).failures[0]).toMatchObject({
      actual: undefined,
      message: 'a.b is missing',
    });
    expect(explain({ a: [{ exists: false }] }, { a: 1 }).failures[0]?.message).toBe(
      'a is 1, but the pattern requires it to be absent',
    );
  });

  it('describes each operator', () => {
    const message = (pattern: object, event: object) => explain(pattern, event).failures[0]?.message;
    expect(message({ a: [{ prefix: 'us-' }] }, { a: 'eu-west-1' })).toBe(
      'a is "eu-west-1", which does not start with "us-"',
    );
    expect(message({ a: [{ suffix: { 'equals-ignore-case': '.png' } }] }, { a: 'x.jpg' })).toBe(
      'a is "x.jpg", which does not end with ".png" (ignoring case)',
    );
    expect(message({ a: [{ wildcard: '*/lib/*' }] }, { a: 3 })).toBe(
      'a is 3, which is not a string (wildcard matches strings only)',
    );
    expect(message({ a: [{ cidr: '10.0.0.0/24' }] }, { a: '10.0.1.1' })).toBe(
      'a is "10.0.1.1", which is not an IP address in 10.0.0.0/24',
    );
    expect(message({ a: [{ numeric: ['>', 0, '<=', 5] }] }, { a: 9 })).toBe('a is 9, which is not > 0 and <= 5');
    expect(message({ a: [{ 'anything-but': ['x', 'y'] }] }, { a: 'y' })).toBe(
      'a "y" is one of the excluded values "x", "y"',
    );
    expect(message({ a: ['x', { prefix: 'y' }] }, { a: 'z' })).toBe(
      'a is "z", which matches none of ["x",{"prefix":"y"}]',
    );
    expect(message({ a: ['x'] }, { a: ['y', 'z'] })).toBe('a is ["y","z"], and no element matches ["x"]');
  });

  it('summarises $or branches in one failure', () => {
    const pattern = {
      detail: { $or: [{ c: [{ numeric: ['>', 0] }] }, { d: [{ numeric: ['<', 10] }] }] },
      source: ['s'],
    };
    const { failures } = explain(pattern, { detail: { c: 0, d: 10 }, source: 's' });
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      path: 'detail.$or',
      actual: { 'detail.c': 0, 'detail.d': 10 },
      message:
        'none of the $or branches matched: (1) detail.c is 0, which is not > 0; (2) detail.d is 10, which is not < 10',
    });
  });

  it('reports failures common to every $or branch as themselves, in key order', () => {
    const pattern = { source: ['s'], $or: [{ c: ['1'] }, { d: ['2'] }] };
    const { failures } = explain(pattern, { source: 't', c: '1' });
    expect(failures.map((f) => f.path)).toEqual(['source']);
  });

  it('explains array-consistency failures', () => {
    const pattern = { items: { sku: ['A'], qty: [2] } };
    const { failures } = explain(pattern, {
      items: [
        { sku: 'A', qty: 1 },
        { sku: 'B', qty: 2 },
      ],
    });
    expect(failures[0]?.message).toContain('only in different elements of the same array');
  });

  it('explains an event that is not an object', () => {
    expect(explain({ a: ['x'] }, 'text').failures[0]?.message).toBe('the event is string, not a JSON object');
  });
});
