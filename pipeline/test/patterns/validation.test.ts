import { describe, expect, it } from 'vitest';
import { type Dialect, PatternValidationError, validatePattern } from '../../src/patterns/index.ts';

function rejection(pattern: unknown, dialect: Dialect = 'eventbridge'): PatternValidationError {
  try {
    validatePattern(pattern, dialect);
  } catch (error: unknown) {
    if (error instanceof PatternValidationError) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(pattern)}`);
}

describe('validatePattern (eventbridge)', () => {
  it.each([
    [{}, '$', 'Empty objects are not allowed'],
    [{ a: {} }, '$.a', 'Empty objects are not allowed'],
    [{ a: [[1]] }, '$.a[0]', 'Match value must be String, number, true, false, or null'],
    [{ a: [{}] }, '$.a[0]', 'Match expression name not found'],
    [{ a: [{ prefix: 'x', suffix: 'y' }] }, '$.a[0]', 'Only one key allowed in match expression'],
    [{ a: [{ prefix: { other: 'x' } }] }, '$.a[0].prefix.other', 'Unsupported prefix pattern: other'],
    [{ a: [{ numeric: [] }] }, '$.a[0].numeric[0]', 'Invalid member in numeric match: ]'],
    [{ a: [{ numeric: ['!=', 1] }] }, '$.a[0].numeric[0]', 'Unrecognized numeric range operator: !='],
    [{ a: [{ numeric: ['=', 1, 2] }] }, '$.a[0].numeric', 'Too many elements in numeric expression'],
    [{ a: [{ numeric: ['>', 5, '<', 1] }] }, '$.a[0].numeric', 'Bottom must be less than top'],
    [{ a: [{ numeric: ['>', 0, '<', 1, 2] }] }, '$.a[0].numeric', 'Too many terms in numeric range expression'],
    [{ a: [{ numeric: ['>', 6e9] }] }, '$.a[0].numeric[1]', 'Value must be between -5.0E9 and 5.0E9, inclusive'],
    [{ a: [{ numeric: ['<', 0.1234567] }] }, '$.a[0].numeric[1]', 'Only values upto 6 decimals are supported'],
    [
      { a: [{ 'anything-but': [1, 'a'] }] },
      '$.a[0]["anything-but"]',
      'Inside anything but list, either all values are number or string, mixed type is not supported',
    ],
    [
      { a: [{ 'anything-but': [] }] },
      '$.a[0]["anything-but"]',
      'Inside anything but list, either all values are number or string, mixed type is not supported',
    ],
    [
      { a: [{ 'anything-but': { regex: 'x' } }] },
      '$.a[0]["anything-but"].regex',
      'Unsupported anything-but pattern: regex',
    ],
    [{ a: [{ 'anything-but': 'x', extra: 1 }] }, '$.a[0]', 'Too many elements in numeric expression'],
    [{ a: [{ exists: 'yes' }] }, '$.a[0].exists', 'exists match pattern must be either true or false.'],
    [{ a: [{ cidr: '10.0.0.0/32' }] }, '$.a[0].cidr', 'IPv4 mask bits must be < 32'],
    [{ a: [{ cidr: '10.0.0.0/-1' }] }, '$.a[0].cidr', 'Malformed CIDR, mask bits must not be negative'],
    [{ a: [{ cidr: '10.0.0.256/8' }] }, '$.a[0].cidr', 'Invalid IP address: 10.0.0.256'],
    [{ a: [{ wildcard: 'a\\b' }] }, '$.a[0].wildcard', 'Invalid escape character at pos 2'],
    [{ $or: { a: ['x'] } }, '$.$or', 'It must be an Array followed with $or.'],
    [{ $or: [{ a: ['x'] }] }, '$.$or', 'There must have at least 2 Objects in $or relationship.'],
    [{ $or: [{ a: ['x'] }, 'b'] }, '$.$or[1]', 'Only JSON object is allowed in array of $or relationship.'],
    [
      { $or: [{ numeric: ['x'] }, { a: ['y'] }] },
      '$.$or[0].numeric',
      'numeric is Ruler reserved fieldName which cannot be used inside $or.',
    ],
  ])('%j is rejected at %s: %s', (pattern, path, reason) => {
    const error = rejection(pattern);
    expect(error.reason).toBe(reason);
    expect(error.path).toBe(path);
    expect(error.dialect).toBe('eventbridge');
    expect(error.name).toBe('PatternValidationError');
  });

  it('rejects values JSON cannot express', () => {
    expect(rejection({ a: [Number.NaN] }).reason).toBe('Match value must be String, number, true, false, or null');
    expect(rejection({ a: undefined }).reason).toBe('"a" must be an object or an array');
  });

  it('accepts every operator in its valid forms', () => {
    expect(() =>
      validatePattern({
        a: ['x', 1, true, null, { prefix: '' }, { suffix: { 'equals-ignore-case': 'X' } }],
        b: [{ numeric: ['>=', -5e9, '<=', 5e9] }, { numeric: ['=', 0.000001] }, { 'anything-but': { prefix: [] } }],
        c: [{ cidr: '::/0' }, { cidr: '10.0.0.0/24/' }, { wildcard: 'a\\**' }, { exists: false }],
        $or: [{ d: ['1'] }, { e: { $or: [{ f: ['2'] }, { g: ['3'] }] } }],
      }),
    ).not.toThrow();
  });
});

describe('validatePattern (pipes)', () => {
  it.each([
    [{ a: [{ wildcard: '*x' }] }, 'wildcard is not supported by EventBridge Pipes filtering'],
    [
      { a: [{ 'anything-but': { prefix: 'x' } }] },
      'anything-but with prefix is not supported by EventBridge Pipes filtering',
    ],
    [
      { a: [{ 'anything-but': { suffix: 'x' } }] },
      'anything-but with suffix is not supported by EventBridge Pipes filtering',
    ],
    [
      { a: [{ 'anything-but': { 'equals-ignore-case': 'x' } }] },
      'anything-but with equals-ignore-case is not supported by EventBridge Pipes filtering',
    ],
    [
      { a: [{ 'anything-but': { wildcard: 'x*' } }] },
      'anything-but with wildcard is not supported by EventBridge Pipes filtering',
    ],
    [{ a: ['x'.repeat(5000)] }, 'Pattern is 5010 characters long; a Pipes filter holds at most 4096'],
  ])('%j is rejected: %s', (pattern, reason) => {
    const error = rejection(pattern, 'pipes');
    expect(error.reason).toBe(reason);
    expect(error.dialect).toBe('pipes');
    expect(error.message).toContain(reason);
  });

  /** The rows eb-create-pattern-operators.html marks Yes under "Pipe support", with that table's rule syntax. */
  it.each([
    ['And', { Location: ['New York'], Day: ['Monday'] }],
    ['Anything-but', { state: [{ 'anything-but': 'initializing' }] }],
    ['Begins with', { Region: [{ prefix: 'us-' }] }],
    ['Begins with (ignore case)', { service: [{ prefix: { 'equals-ignore-case': 'eventb' } }] }],
    ['Empty', { LastName: [''] }],
    ['Equals', { Name: ['Alice'] }],
    ['Equals (ignore case)', { Name: [{ 'equals-ignore-case': 'alice' }] }],
    ['Ends with', { FileName: [{ suffix: '.png' }] }],
    ['Ends with (ignore case)', { service: [{ suffix: { 'equals-ignore-case': 'tBridge' } }] }],
    ['Exists', { ProductName: [{ exists: true }] }],
    ['Does not exist', { ProductName: [{ exists: false }] }],
    ['Not', { Weather: [{ 'anything-but': ['Raining'] }] }],
    ['Null', { UserID: [null] }],
    ['Numeric (equals)', { Price: [{ numeric: ['=', 100] }] }],
    ['Numeric (range)', { Price: [{ numeric: ['>', 10, '<=', 20] }] }],
    ['Or', { PaymentType: ['Credit', 'Debit'] }],
    ['Or (multiple fields)', { $or: [{ Location: ['New York'] }, { Day: ['Monday'] }] }],
  ])('accepts %s, which the Pipe support column marks Yes', (_, pattern) => {
    expect(() => validatePattern(pattern, 'pipes')).not.toThrow();
  });

  it('accepts cidr, which that table does not list (assumed supported)', () => {
    expect(() => validatePattern({ sourceIPAddress: [{ cidr: '10.0.0.0/24' }] }, 'pipes')).not.toThrow();
  });

  /** eb-pipes-event-filtering.html: "The following fields can't be used in event patterns" (added by the poller). */
  const pollerFields = [
    'awsRegion',
    'eventSource',
    'eventSourceARN',
    'eventVersion',
    'eventID',
    'eventName',
    'invokeIdentityArn',
    'eventSourceKey',
  ];
  const pollerReason = (field: string) =>
    `${field} cannot be used in an EventBridge Pipes filter: the Pipes poller adds it to each record, and Pipes filters only on fields the source sends`;

  it.each(pollerFields)('rejects the poller-added field %s, naming it and why', (field) => {
    const error = rejection({ [field]: ['x'], dynamodb: { NewImage: { s: { S: ['y'] } } } }, 'pipes');
    expect(error.path).toBe(`$.${field}`);
    expect(error.reason).toBe(pollerReason(field));
    expect(() => validatePattern({ [field]: ['x'] }, 'eventbridge')).not.toThrow();
  });

  it('rejects a poller-added field however the pattern reaches it: exists, nested, dotted, in a root $or', () => {
    expect(rejection({ eventName: [{ exists: true }] }, 'pipes').reason).toBe(pollerReason('eventName'));
    expect(rejection({ eventID: { x: ['1'] } }, 'pipes').path).toBe('$.eventID');
    expect(rejection({ 'awsRegion.x': ['1'] }, 'pipes').reason).toBe(pollerReason('awsRegion'));
    const inOr = rejection({ $or: [{ a: ['1'] }, { eventName: ['MODIFY'] }] }, 'pipes');
    expect(inOr.path).toBe('$.$or[1].eventName');
    expect(inOr.reason).toBe(pollerReason('eventName'));
  });

  it("accepts those names below the root, where they are the source's own fields", () => {
    const nested = { dynamodb: { NewImage: { eventName: { S: ['x'] } } }, detail: { eventSource: ['y'] } };
    expect(() => validatePattern(nested, 'pipes')).not.toThrow();
    expect(() => validatePattern({ eventNames: ['x'], EventName: ['y'] }, 'pipes')).not.toThrow();
  });
});
