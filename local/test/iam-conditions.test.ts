// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables are ${...} inside plain strings
import { describe, expect, it } from 'vitest';
import { compileCondition, PolicyDocumentError } from '../src/iam/conditions.ts';
import { contextKeySupport } from '../src/iam/context-keys.ts';

type Values = Record<string, string | string[]>;

/** Compiles a Condition block and evaluates it against request values (keys as the request spells them). */
function holds(block: Record<string, unknown>, values: Values, variables = true): boolean {
  const compiled = compileCondition(block, { variables, keySupport: () => undefined, where: 'test' });
  if (compiled.unsupported) throw new Error(`unsupported: ${compiled.unsupported.join('; ')}`);
  const lower = new Map(
    Object.entries(values).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v : [v]] as [string, string[]]),
  );
  return compiled.condition ? compiled.condition.test((key) => lower.get(key)) : true;
}

function unsupported(block: Record<string, unknown>): readonly string[] {
  const compiled = compileCondition(block, { variables: true, keySupport: contextKeySupport, where: 'test' });
  return compiled.unsupported ?? [];
}

describe('string operators', () => {
  it('StringEquals is exact and case-sensitive; several values are ORed', () => {
    expect(
      holds({ StringEquals: { 'aws:SourceAccount': '000000000000' } }, { 'aws:SourceAccount': '000000000000' }),
    ).toBe(true);
    expect(holds({ StringEquals: { 'aws:SourceAccount': ['1', '2'] } }, { 'aws:SourceAccount': '2' })).toBe(true);
    expect(holds({ StringEquals: { 'aws:UserAgent': 'Abc' } }, { 'aws:UserAgent': 'abc' })).toBe(false);
    expect(holds({ StringEquals: { 'aws:UserAgent': 'a*' } }, { 'aws:UserAgent': 'abc' })).toBe(false);
  });

  it('negated operators need the value to match none of the policy values (AND)', () => {
    expect(holds({ StringNotEquals: { 'aws:SourceAccount': ['1', '2'] } }, { 'aws:SourceAccount': '2' })).toBe(false);
    expect(holds({ StringNotEquals: { 'aws:SourceAccount': ['1', '2'] } }, { 'aws:SourceAccount': '3' })).toBe(true);
  });

  it('StringEqualsIgnoreCase, StringLike and StringNotLike', () => {
    expect(holds({ StringEqualsIgnoreCase: { 'aws:UserAgent': 'ABC' } }, { 'aws:UserAgent': 'abc' })).toBe(true);
    expect(holds({ StringNotEqualsIgnoreCase: { 'aws:UserAgent': 'ABC' } }, { 'aws:UserAgent': 'abc' })).toBe(false);
    expect(holds({ StringLike: { 'aws:UserAgent': 'aws-cli/*' } }, { 'aws:UserAgent': 'aws-cli/2.0 Python' })).toBe(
      true,
    );
    expect(holds({ StringLike: { 'aws:UserAgent': 'aws-cli/?.0' } }, { 'aws:UserAgent': 'aws-cli/2.0' })).toBe(true);
    expect(holds({ StringLike: { 'aws:UserAgent': 'AWS-cli/*' } }, { 'aws:UserAgent': 'aws-cli/2.0' })).toBe(false);
    expect(holds({ StringNotLike: { 'aws:UserAgent': 'aws-cli/*' } }, { 'aws:UserAgent': 'boto3' })).toBe(true);
  });

  it('condition key names are case-insensitive', () => {
    expect(holds({ StringEquals: { 'AWS:SOURCEACCOUNT': '1' } }, { 'aws:sourceaccount': '1' })).toBe(true);
  });
});

describe('a key missing from the request (Conditions_IfExists, condition operators page "Important")', () => {
  it('makes a positive operator false and a negated one true', () => {
    expect(holds({ StringEquals: { 'aws:SourceArn': 'x' } }, {})).toBe(false);
    expect(holds({ StringNotEquals: { 'aws:SourceArn': 'x' } }, {})).toBe(true);
    expect(holds({ ArnNotLike: { 'aws:SourceArn': 'arn:aws:sns:*:*:*' } }, {})).toBe(true);
    expect(holds({ Bool: { 'aws:SecureTransport': 'false' } }, {})).toBe(false);
  });

  it('...IfExists holds when the key is missing and tests it when present', () => {
    expect(holds({ StringEqualsIfExists: { 'aws:SourceArn': 'x' } }, {})).toBe(true);
    expect(holds({ StringEqualsIfExists: { 'aws:SourceArn': 'x' } }, { 'aws:SourceArn': 'y' })).toBe(false);
    expect(holds({ BoolIfExists: { 'aws:SecureTransport': 'false' } }, {})).toBe(true);
    expect(holds({ BoolIfExists: { 'aws:SecureTransport': 'false' } }, { 'aws:SecureTransport': 'true' })).toBe(false);
  });

  it('Null tests presence', () => {
    expect(holds({ Null: { 'aws:SourceArn': 'true' } }, {})).toBe(true);
    expect(holds({ Null: { 'aws:SourceArn': 'true' } }, { 'aws:SourceArn': 'x' })).toBe(false);
    expect(holds({ Null: { 'aws:SourceArn': 'false' } }, { 'aws:SourceArn': 'x' })).toBe(true);
    expect(holds({ Null: { 'aws:SourceArn': false } }, {})).toBe(false);
  });
});

describe('set qualifiers (reference_policies_condition-single-vs-multi-valued-context-keys)', () => {
  const via = 'aws:CalledVia';
  it('ForAnyValue: at least one request value matches; false when the key is missing', () => {
    expect(holds({ 'ForAnyValue:StringEquals': { [via]: ['a', 'b'] } }, { [via]: ['c', 'b'] })).toBe(true);
    expect(holds({ 'ForAnyValue:StringEquals': { [via]: ['a', 'b'] } }, { [via]: ['c'] })).toBe(false);
    expect(holds({ 'ForAnyValue:StringEquals': { [via]: ['a'] } }, {})).toBe(false);
    expect(holds({ 'ForAnyValue:StringNotEquals': { [via]: ['a'] } }, { [via]: ['a', 'z'] })).toBe(true);
    expect(holds({ 'ForAnyValue:StringNotEquals': { [via]: ['a'] } }, {})).toBe(false);
  });

  it('ForAllValues: every request value matches; true when the key is missing or empty', () => {
    expect(holds({ 'ForAllValues:StringEquals': { [via]: ['a', 'b'] } }, { [via]: ['a', 'b'] })).toBe(true);
    expect(holds({ 'ForAllValues:StringEquals': { [via]: ['a', 'b'] } }, { [via]: ['a', 'c'] })).toBe(false);
    expect(holds({ 'ForAllValues:StringEquals': { [via]: ['a'] } }, {})).toBe(true);
    expect(holds({ 'ForAllValues:StringEquals': { [via]: ['a'] } }, { [via]: [] })).toBe(true);
    expect(holds({ 'ForAllValues:StringNotEquals': { [via]: ['a'] } }, { [via]: ['b', 'c'] })).toBe(true);
    expect(holds({ 'ForAllValues:StringNotEquals': { [via]: ['a'] } }, { [via]: ['b', 'a'] })).toBe(false);
    expect(holds({ 'ForAllValues:StringLikeIfExists': { [via]: ['a*'] } }, {})).toBe(true);
  });

  it('treats a multivalued key without qualifier as any-of for positive operators, none-of for negated ones', () => {
    expect(holds({ StringEquals: { [via]: 'b' } }, { [via]: ['a', 'b'] })).toBe(true);
    expect(holds({ StringNotEquals: { [via]: 'b' } }, { [via]: ['a', 'b'] })).toBe(false);
  });
});

describe('several operators and keys', () => {
  it('are ANDed', () => {
    const block = {
      StringEquals: { 'aws:SourceAccount': '1', 'aws:RequestedRegion': 'us-east-1' },
      Bool: { 'aws:SecureTransport': 'true' },
    };
    const all = { 'aws:SourceAccount': '1', 'aws:RequestedRegion': 'us-east-1', 'aws:SecureTransport': 'true' };
    expect(holds(block, all)).toBe(true);
    expect(holds(block, { ...all, 'aws:RequestedRegion': 'eu-west-1' })).toBe(false);
    expect(holds(block, { ...all, 'aws:SecureTransport': 'false' })).toBe(false);
  });
});

describe('numeric, date, bool, binary, IP and ARN operators', () => {
  it('Numeric*', () => {
    const k = 'aws:MultiFactorAuthAge';
    expect(holds({ NumericLessThan: { [k]: '3600' } }, { [k]: '100' })).toBe(true);
    expect(holds({ NumericLessThan: { [k]: 3600 } }, { [k]: '3600' })).toBe(false);
    expect(holds({ NumericLessThanEquals: { [k]: '3600' } }, { [k]: '3600.0' })).toBe(true);
    expect(holds({ NumericGreaterThan: { [k]: '10' } }, { [k]: '9' })).toBe(false);
    expect(holds({ NumericGreaterThanEquals: { [k]: '10' } }, { [k]: '10' })).toBe(true);
    expect(holds({ NumericEquals: { [k]: '10' } }, { [k]: '1e1' })).toBe(true);
    expect(holds({ NumericNotEquals: { [k]: ['1', '2'] } }, { [k]: '3' })).toBe(true);
    expect(holds({ NumericEquals: { [k]: '10' } }, { [k]: 'ten' })).toBe(false);
  });

  it('Date* with ISO 8601 and epoch seconds', () => {
    const k = 'aws:CurrentTime';
    expect(holds({ DateLessThan: { [k]: '2026-01-01T00:00:00Z' } }, { [k]: '2025-12-31T23:59:59Z' })).toBe(true);
    expect(holds({ DateGreaterThan: { [k]: '2026-01-01' } }, { [k]: '2026-01-02T00:00:00Z' })).toBe(true);
    expect(holds({ DateEquals: { [k]: '1767225600' } }, { [k]: '2026-01-01T00:00:00Z' })).toBe(true);
    expect(holds({ DateNotEquals: { [k]: '1767225600' } }, { [k]: '2026-01-01T00:00:00Z' })).toBe(false);
    expect(holds({ DateLessThanEquals: { [k]: '2026-01-01T00:00:00Z' } }, { [k]: '2026-01-01T00:00:00Z' })).toBe(true);
    expect(holds({ DateGreaterThanEquals: { [k]: '2026-01-01T00:00:00Z' } }, { [k]: 'yesterday' })).toBe(false);
  });

  it('Bool compares true/false without regard to case', () => {
    expect(holds({ Bool: { 'aws:SecureTransport': 'false' } }, { 'aws:SecureTransport': 'false' })).toBe(true);
    expect(holds({ Bool: { 'aws:SecureTransport': 'False' } }, { 'aws:SecureTransport': 'false' })).toBe(true);
    expect(holds({ Bool: { 'aws:SecureTransport': true } }, { 'aws:SecureTransport': 'false' })).toBe(false);
  });

  it('BinaryEquals compares the base-64 text', () => {
    expect(holds({ BinaryEquals: { 'aws:UserAgent': 'QmluYXJ5' } }, { 'aws:UserAgent': 'QmluYXJ5' })).toBe(true);
    expect(holds({ BinaryEquals: { 'aws:UserAgent': 'QmluYXJ5' } }, { 'aws:UserAgent': 'qmluyxj5' })).toBe(false);
  });

  it('IpAddress and NotIpAddress', () => {
    expect(
      holds({ IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '127.0.0.1/32'] } }, { 'aws:SourceIp': '127.0.0.1' }),
    ).toBe(true);
    expect(holds({ NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, { 'aws:SourceIp': '10.1.2.3' })).toBe(false);
    expect(holds({ NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, { 'aws:SourceIp': '192.168.0.1' })).toBe(true);
  });

  it('ArnEquals/ArnLike and their negations', () => {
    const alarm = 'arn:aws:cloudwatch:us-east-1:000000000000:alarm:orderflow-standard-dlq';
    expect(
      holds({ ArnLike: { 'aws:SourceArn': 'arn:aws:cloudwatch:*:000000000000:alarm:*' } }, { 'aws:SourceArn': alarm }),
    ).toBe(true);
    expect(
      holds(
        { ArnEquals: { 'aws:SourceArn': 'arn:aws:cloudwatch:*:000000000000:alarm:*' } },
        { 'aws:SourceArn': alarm },
      ),
    ).toBe(true);
    expect(holds({ ArnNotEquals: { 'aws:SourceArn': alarm } }, { 'aws:SourceArn': alarm })).toBe(false);
    expect(holds({ ArnNotLike: { 'aws:SourceArn': 'arn:aws:sns:*:*:*' } }, { 'aws:SourceArn': alarm })).toBe(true);
    expect(
      holds({ ArnLike: { 'aws:SourceArn': 'arn:aws:cloudwatch:*:111111111111:alarm:*' } }, { 'aws:SourceArn': alarm }),
    ).toBe(false);
  });
});

describe('policy variables in condition values', () => {
  it('are substituted in Version 2012-10-17 and literal text otherwise', () => {
    const block = { StringEquals: { 'aws:SourceAccount': '${aws:PrincipalAccount}' } };
    const values = { 'aws:SourceAccount': '000000000000', 'aws:PrincipalAccount': '000000000000' };
    expect(holds(block, values)).toBe(true);
    expect(holds(block, { ...values, 'aws:SourceAccount': '1' })).toBe(false);
    expect(holds(block, values, false)).toBe(false);
    expect(holds(block, { 'aws:SourceAccount': '${aws:PrincipalAccount}' }, false)).toBe(true);
  });

  it('a value whose variable has no value is compared neither way', () => {
    const values = { 'aws:SourceAccount': '000000000000' };
    expect(holds({ StringNotEquals: { 'aws:SourceAccount': '${aws:PrincipalAccount}' } }, values)).toBe(false);
    expect(holds({ StringNotEquals: { 'aws:SourceAccount': ['1', '${aws:PrincipalAccount}'] } }, values)).toBe(false);
    expect(holds({ StringEquals: { 'aws:SourceAccount': ['${aws:PrincipalAccount}', '000000000000'] } }, values)).toBe(
      true,
    );
    expect(holds({ StringNotEquals: { 'aws:SourceAccount': "${aws:PrincipalAccount, '1'}" } }, values)).toBe(true);
  });

  it('a variable without a value makes the value match nothing; ${*} is a literal asterisk in StringLike', () => {
    expect(
      holds({ StringEquals: { 'aws:SourceAccount': '${aws:PrincipalAccount}' } }, { 'aws:SourceAccount': '' }),
    ).toBe(false);
    expect(holds({ StringLike: { 'aws:UserAgent': 'a${*}b*' } }, { 'aws:UserAgent': 'a*bc' })).toBe(true);
    expect(holds({ StringLike: { 'aws:UserAgent': 'a${*}b*' } }, { 'aws:UserAgent': 'axbc' })).toBe(false);
  });
});

describe('what the evaluator cannot evaluate is reported, not guessed', () => {
  it('unknown operators, unsupplied or unknown keys, and bad values', () => {
    expect(unsupported({ StringEqualsSometimes: { 'aws:SourceArn': 'x' } })).toEqual([
      'unknown condition operator StringEqualsSometimes',
    ]);
    expect(unsupported({ StringEquals: { 'aws:PrincipalOrgID': 'o-1' } })[0]).toMatch(
      /aws:principalorgid is an AWS global key the local runtime does not supply/,
    );
    expect(unsupported({ StringEquals: { 'aws:NoSuchKey': 'x' } })[0]).toMatch(/is not an AWS global condition key/);
    expect(unsupported({ StringEquals: { 'sqs:QueueTag': 'x' } })[0]).toMatch(
      /service key the local runtime does not supply/,
    );
    expect(unsupported({ NumericLessThan: { 'aws:MultiFactorAuthAge': 'soon' } })).toHaveLength(1);
    expect(
      compileCondition(
        { NumericLessThan: { k: 'soon' }, DateLessThan: { k: 'never' }, Bool: { k: 'yes' }, IpAddress: { k: '1.2.3' } },
        { variables: true, keySupport: () => undefined, where: 'test' },
      ).unsupported,
    ).toEqual([
      "NumericLessThan value 'soon' is not a number",
      "DateLessThan value 'never' is not an ISO 8601 date or epoch seconds",
      "Bool value 'yes' is neither true nor false",
      "IpAddress value '1.2.3' is not an IP address or CIDR block",
    ]);
  });

  it('a malformed block is a PolicyDocumentError', () => {
    expect(() => holds({ StringEquals: 'x' }, {})).toThrow(PolicyDocumentError);
    expect(() => holds({ StringEquals: { k: { nested: 1 } } }, {})).toThrow(/condition values must be strings/);
    expect(() => compileCondition([], { variables: true, keySupport: () => undefined, where: 'S' })).toThrow(
      /S: Condition must be an object/,
    );
  });
});
