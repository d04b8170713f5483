import { defineRule, PIPES, type PipeDefinition } from '@orderflow/pipeline/facts';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { OrderflowStack, type OrderflowStackProps, OrderflowStackPropsError } from '../src/index.ts';

// Props are validated before any construct is created, so these tests never bundle or synthesize.
function synthError(props: OrderflowStackProps): OrderflowStackPropsError {
  try {
    new OrderflowStack(new App(), 'Orderflow', { opsToolkit: false, ...props });
  } catch (error: unknown) {
    if (error instanceof OrderflowStackPropsError) return error;
    throw error;
  }
  throw new Error('the stack accepted the props');
}

function withStandard(change: Partial<PipeDefinition>): OrderflowStackProps {
  return { pipes: { ...PIPES, standard: { ...PIPES.standard, ...change } } };
}

describe('bad props fail synth naming the prop', () => {
  it('batch size above 10000', () => {
    const error = synthError(withStandard({ source: { ...PIPES.standard.source, batchSize: 20_000 } }));
    expect(error.prop).toBe('pipes.standard');
    expect(error.message).toBe("pipes.standard: batchSize 20000 for pipe 'standard' exceeds 10000");
  });

  it('batch size of zero', () => {
    const error = synthError(withStandard({ source: { ...PIPES.standard.source, batchSize: 0 } }));
    expect(error.message).toContain("batchSize 0 for pipe 'standard' is below 1");
  });

  it('retry count out of range', () => {
    const error = synthError({
      pipes: { ...PIPES, premium: { ...PIPES.premium, source: { ...PIPES.premium.source, maximumRetryAttempts: -2 } } },
    });
    expect(error.prop).toBe('pipes.premium');
    expect(error.message).toContain("maximumRetryAttempts -2 for pipe 'premium' is below -1 (unlimited) or 0");
  });

  it('a maximum record age under 60 seconds (AWS allows -1 or 60..604800)', () => {
    const error = synthError(withStandard({ source: { ...PIPES.standard.source, maximumRecordAgeInSeconds: 30 } }));
    expect(error.prop).toBe('pipes.standard');
    expect(error.message).toBe(
      "pipes.standard: maximumRecordAgeInSeconds 30 for pipe 'standard' is below 60; AWS allows -1 (unlimited) or 60 to 604800",
    );
  });

  it('a rule constrained only by a field the Pipes poller adds (eventName), which a pipe filter cannot use', () => {
    const rule = defineRule([{ id: 'modify', description: 'a MODIFY', pattern: { eventName: ['MODIFY'] } }]);
    const error = synthError({ pipes: { ...PIPES, premium: { ...PIPES.premium, rule } } });
    expect(error.prop).toBe('pipes.premium');
    expect(error.message).toMatch(/pipe 'premium'.*derived filter is empty/);
  });

  it('a rule whose derived filter is empty', () => {
    // `wildcard` is not supported by Pipes, and the clause also matches a record without the field, so the derived
    // filter can neither keep it nor replace it with `exists: true`: nothing is left.
    const rule = defineRule([
      {
        id: 'email-absent-or-example',
        description: 'no email, or an example.com email',
        pattern: {
          dynamodb: { NewImage: { customerEmail: { S: [{ exists: false }, { wildcard: '*@example.com' }] } } },
        },
      },
    ]);
    const error = synthError(withStandard({ rule }));
    expect(error.prop).toBe('pipes.standard');
    expect(error.message).toMatch(/pipe 'standard'.*(empty|not valid for Pipes)/);
  });

  it('an alarm email that is not an email', () => {
    const error = synthError({ alarmEmail: 'oncall-at-example.com' });
    expect(error.prop).toBe('alarmEmail');
    expect(error.message).toContain("alarmEmail 'oncall-at-example.com' is not an email address");
  });

  it('a journal TTL below one day', () => {
    expect(synthError({ journalTtlDays: 0 }).prop).toBe('journalTtlDays');
  });

  it('a resource prefix that cannot name a pipe', () => {
    expect(synthError({ resourcePrefix: 'Order Flow' }).prop).toBe('resourcePrefix');
  });
});
