// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables are ${...} inside plain strings
import { describe, expect, it } from 'vitest';
import { ipInBlock, parseCidr } from '../src/iam/ip.ts';
import { actionMatcher, arnConditionMatcher, globMatcher, resourceMatcher, splitArn } from '../src/iam/patterns.ts';
import { parseVariables, substitute } from '../src/iam/variables.ts';

describe('action matching (reference_policies_elements_action)', () => {
  it('is case-insensitive, with * and ? wildcards', () => {
    expect(actionMatcher('sqs:SendMessage')('sqs:sendmessage')).toBe(true);
    expect(actionMatcher('SQS:sendMESSAGE')('sqs:sendmessage')).toBe(true);
    expect(actionMatcher('sqs:Send*')('sqs:sendmessagebatch')).toBe(true);
    expect(actionMatcher('sqs:?endMessage')('sqs:sendmessage')).toBe(true);
    expect(actionMatcher('sqs:?endMessage')('sqs:ssendmessage')).toBe(false);
    expect(actionMatcher('sqs:*')('sns:publish')).toBe(false);
    expect(actionMatcher('*')('sns:publish')).toBe(true);
    expect(actionMatcher('dynamodb:GetItem')('dynamodb:getitems')).toBe(false);
  });
});

describe('resource matching (reference_policies_elements_resource)', () => {
  const queue = 'arn:aws:sqs:us-east-1:000000000000:orders';
  it('is case-sensitive and exact without wildcards', () => {
    expect(resourceMatcher(queue)(queue)).toBe(true);
    expect(resourceMatcher(queue)(queue.toUpperCase())).toBe(false);
    expect(resourceMatcher('arn:aws:sqs:us-east-1:000000000000:Orders')(queue)).toBe(false);
  });

  it('keeps a wildcard inside its segment unless it ends the segment', () => {
    // `*` in the middle of a segment does not cross a colon.
    expect(resourceMatcher('arn:aws:sqs:us-*-1:000000000000:orders')(queue)).toBe(true);
    expect(
      resourceMatcher('arn:aws:s*s:us-east-1:000000000000:orders')('arn:aws:sqs:x:y:us-east-1:000000000000:orders'),
    ).toBe(false);
    // `*` ending a segment may expand beyond the colons: arn:aws:sqs:* covers every queue.
    expect(resourceMatcher('arn:aws:sqs:*')(queue)).toBe(true);
    expect(resourceMatcher('arn:aws:sqs:*:000000000000:orders')(queue)).toBe(true);
    expect(resourceMatcher('arn:aws:sqs:us-east-1:000000000000:ord?rs')(queue)).toBe(true);
    expect(resourceMatcher('arn:aws:sqs:us-east-?:000000000000:orders')(queue)).toBe(true);
    expect(resourceMatcher('arn:aws:sns:*')(queue)).toBe(false);
  });

  it('matches anything, colons and slashes included, in the resource segment', () => {
    const logs = 'arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/fn:log-stream:x';
    expect(resourceMatcher('arn:aws:logs:*:*:log-group:/aws/lambda/*')(logs)).toBe(true);
    expect(resourceMatcher('arn:aws:logs:*:*:log-group:/aws/lambda-insights:*')(logs)).toBe(false);
    expect(resourceMatcher('arn:aws:s3:::bucket/*')('arn:aws:s3:::bucket/a/b:c')).toBe(true);
    expect(resourceMatcher('*')('anything')).toBe(true);
  });
});

describe('ARN condition matching (Conditions_ARN)', () => {
  it('matches each of the six components on its own', () => {
    const alarm = 'arn:aws:cloudwatch:us-east-1:000000000000:alarm:orderflow-dlq';
    expect(arnConditionMatcher('arn:aws:cloudwatch:us-east-1:000000000000:alarm:orderflow-*')(alarm)).toBe(true);
    expect(arnConditionMatcher('arn:aws:cloudwatch:*:000000000000:*')(alarm)).toBe(true);
    expect(arnConditionMatcher('arn:aws:cloudwatch:*:111111111111:*')(alarm)).toBe(false);
    // Fewer than six components in the policy value, or a value that is not an ARN: no match.
    expect(arnConditionMatcher('arn:aws:cloudwatch:*')(alarm)).toBe(false);
    expect(arnConditionMatcher('arn:aws:*:*:*:*')('not-an-arn')).toBe(false);
    expect(splitArn('arn:aws:logs:r:a:log-group:x:*')).toEqual(['arn', 'aws', 'logs', 'r', 'a', 'log-group:x:*']);
  });
});

describe('globs', () => {
  it('escapes regular-expression characters', () => {
    expect(globMatcher('a.b(c)+[d]')('a.b(c)+[d]')).toBe(true);
    expect(globMatcher('a.b')('axb')).toBe(false);
    expect(globMatcher('a*b')('a\nb')).toBe(true);
    expect(globMatcher('ABC', true)('abc')).toBe(true);
    expect(globMatcher('AB*', true)('abc')).toBe(true);
  });
});

describe('policy variables (reference_policies_variables)', () => {
  const lookup = (values: Record<string, string[]>) => (key: string) => values[key];
  it('substitutes single values, defaults and the special characters', () => {
    const parts = parseVariables("arn:aws:s3:::b/${aws:PrincipalAccount}/${aws:username, 'none'}/${*}");
    expect(parts).toBeDefined();
    const chunks = substitute(parts ?? [], lookup({ 'aws:principalaccount': ['000000000000'] }));
    expect(chunks?.map((c) => c.text).join('')).toBe('arn:aws:s3:::b/000000000000/none/*');
    expect(chunks?.at(-1)).toEqual({ text: '*', literal: true });
  });

  it('gives nothing for a missing key without default or a multivalued key', () => {
    const parts = parseVariables('${aws:SourceArn}') ?? [];
    expect(substitute(parts, lookup({}))).toBeUndefined();
    expect(substitute(parts, lookup({ 'aws:sourcearn': ['a', 'b'] }))).toBeUndefined();
    expect(parseVariables('no variables')).toBeUndefined();
  });
});

describe('IP addresses and CIDR blocks', () => {
  it('matches IPv4 and IPv6 blocks', () => {
    const v4 = parseCidr('203.0.113.0/24');
    const v6 = parseCidr('2001:db8::/32');
    expect(v4 && ipInBlock('203.0.113.77', v4)).toBe(true);
    expect(v4 && ipInBlock('203.0.114.1', v4)).toBe(false);
    expect(v6 && ipInBlock('2001:db8:1::5', v6)).toBe(true);
    expect(v6 && ipInBlock('2001:db9::1', v6)).toBe(false);
    expect(v4 && ipInBlock('2001:db8::1', v4)).toBe(false);
    const single = parseCidr('127.0.0.1');
    expect(single && ipInBlock('127.0.0.1', single)).toBe(true);
    const mapped = parseCidr('::ffff:192.0.2.0/120');
    expect(mapped && ipInBlock('::ffff:192.0.2.9', mapped)).toBe(true);
  });

  it('rejects what is not an address or block', () => {
    expect(parseCidr('300.0.0.1')).toBeUndefined();
    expect(parseCidr('10.0.0.0/33')).toBeUndefined();
    expect(parseCidr('1:2:3')).toBeUndefined();
    expect(parseCidr('10.0.0.0/8/1')).toBeUndefined();
  });
});
