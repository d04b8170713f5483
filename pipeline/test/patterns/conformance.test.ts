import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilePattern, PatternValidationError, referenceMatch, validatePattern } from '../../src/patterns/index.ts';

// AWS-validated vectors from LocalStack (Apache-2.0); origin and licence in the fixtures folder's README.
const vectorsDir = path.resolve(import.meta.dirname, '../fixtures/event-patterns');

interface MatchVector {
  id: string;
  pattern: unknown;
  event: unknown;
  match: boolean;
  tags: string[];
}
interface InvalidVector {
  id: string;
  pattern: unknown;
  error: string;
}

const vectors: MatchVector[] = JSON.parse(readFileSync(path.join(vectorsDir, 'aws-validated-vectors.json'), 'utf8'));
const invalid: InvalidVector[] = JSON.parse(readFileSync(path.join(vectorsDir, 'aws-validated-invalid.json'), 'utf8'));

/** Operators the EventBridge user guide's comparison table marks "No" under Pipe support. */
const PIPES_UNSUPPORTED_TAGS = [
  'wildcard',
  'anything-but/prefix',
  'anything-but/suffix',
  'anything-but/equals-ignore-case',
  'anything-but/wildcard',
];
const pipesUnsupported = (v: MatchVector) =>
  v.tags.some((tag) => PIPES_UNSUPPORTED_TAGS.some((u) => tag === u || tag.startsWith(`${u}(`)));

/** Record fields the Pipes poller adds, which Pipes filters cannot use (EventBridge user guide, eb-pipes-event-filtering). */
const POLLER_FIELDS = [
  'awsRegion',
  'eventSource',
  'eventSourceARN',
  'eventVersion',
  'eventID',
  'eventName',
  'invokeIdentityArn',
  'eventSourceKey',
];
/** The record fields a pattern's root keys name (first dotted segment), root `$or` branches included. */
function rootFields(pattern: unknown): string[] {
  if (typeof pattern !== 'object' || pattern === null || Array.isArray(pattern)) return [];
  return Object.entries(pattern).flatMap(([key, value]) =>
    key === '$or' && Array.isArray(value) ? value.flatMap(rootFields) : [key.split('.')[0] ?? key],
  );
}
const usesPollerField = (v: MatchVector) => rootFields(v.pattern).some((field) => POLLER_FIELDS.includes(field));
const pollerFieldError = /cannot be used in an EventBridge Pipes filter: the Pipes poller adds it to each record/;

describe('AWS-validated match vectors', () => {
  it('are all present', () => {
    expect(vectors).toHaveLength(129);
    expect(invalid).toHaveLength(39);
  });

  it.each(vectors.map((v) => [v.id, v] as const))('%s matches as AWS did', (_, v) => {
    const compiled = compilePattern(v.pattern, 'eventbridge');
    expect(compiled.matches(v.event)).toBe(v.match);
    expect(compiled.matchesJson(JSON.stringify(v.event))).toBe(v.match);
    expect(referenceMatch(v.pattern, v.event)).toBe(v.match);
    expect(compiled.explain(v.event).matched).toBe(v.match);
  });

  const forPipes = vectors.filter(pipesUnsupported);
  it('include vectors Pipes cannot evaluate', () => expect(forPipes.length).toBeGreaterThan(30));

  it.each(forPipes.map((v) => [v.id, v] as const))('%s is rejected by the pipes dialect', (_, v) => {
    expect(() => validatePattern(v.pattern, 'pipes')).toThrow(/is not supported by EventBridge Pipes filtering/);
  });

  it.each(vectors.filter((v) => !pipesUnsupported(v)).map((v) => [v.id, v] as const))(
    '%s is accepted by the pipes dialect, unless it filters on a poller-added field',
    (_, v) => {
      if (usesPollerField(v)) expect(() => validatePattern(v.pattern, 'pipes')).toThrow(pollerFieldError);
      else expect(() => validatePattern(v.pattern, 'pipes')).not.toThrow();
    },
  );

  // The same vectors with a poller-added field constrained too (and present in the event with that value): the
  // verdict is unchanged in the eventbridge dialect, while the pipes dialect refuses the pattern.
  const withPollerField = vectors
    .filter((v) => !pipesUnsupported(v) && !usesPollerField(v))
    .map((v, i) => {
      const field = POLLER_FIELDS[i % POLLER_FIELDS.length] ?? 'eventName';
      const pattern = { ...(v.pattern as object), [field]: ['poller-value'] };
      const event = { ...(v.event as object), [field]: 'poller-value' };
      return [`${v.id} + ${field}`, { ...v, pattern, event }] as const;
    });
  it.each(withPollerField)('%s matches as before in eventbridge and is refused by pipes', (_, v) => {
    const compiled = compilePattern(v.pattern, 'eventbridge');
    expect(compiled.matches(v.event)).toBe(v.match);
    expect(compiled.matchesJson(JSON.stringify(v.event))).toBe(v.match);
    expect(referenceMatch(v.pattern, v.event)).toBe(v.match);
    expect(() => validatePattern(v.pattern, 'pipes')).toThrow(pollerFieldError);
  });
});

describe('AWS-validated invalid patterns', () => {
  it.each(invalid.map((v) => [v.id, v] as const))('%s is rejected with AWS reason', (_, v) => {
    const awsReason = v.error.split('Reason: ')[1];
    let thrown: unknown;
    try {
      validatePattern(v.pattern);
    } catch (error: unknown) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PatternValidationError);
    const error = thrown as PatternValidationError;
    expect(error.reason).toBe(awsReason);
    expect(error.message).toBe(`Event pattern is not valid. Reason: ${awsReason} at ${error.path}`);
    expect(error.path).toMatch(/^\$/);
  });
});
