import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { failedMessageIds, type SqsRecord, sqsFilter } from '../src/lambda/sqs-event-source.ts';
import type { LocalResourceValue, TemplateResource } from '../src/template/intrinsics.ts';
import { loadTemplate, sqsEventSourceMappingSpecs, TemplateError } from '../src/template/local-plan.ts';

/**
 * The rules of an SQS event source mapping that need no running queue: how the template's mapping is read and what
 * CreateEventSourceMapping would refuse, how FilterCriteria apply to a message body, and how a partial batch
 * response is read.
 */
const scratch = mkdtempSync(join(tmpdir(), 'orderflow-esm-rules-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const names = { region: 'us-east-1', account: '000000000000', stackName: 'Orderflow' };
const queueValue = (name: string): LocalResourceValue => ({
  ref: `http://127.0.0.1:1/000000000000/${name}`,
  attributes: { Arn: `arn:aws:sqs:us-east-1:000000000000:${name}`, QueueName: name },
});
const context = {
  ...names,
  resources: new Map<string, LocalResourceValue>([
    ['Work', queueValue('Work')],
    ['Fifo', queueValue('Work.fifo')],
    ['Worker', { ref: 'Worker', attributes: { Arn: 'arn:aws:lambda:us-east-1:000000000000:function:Worker' } }],
  ]),
};

/** A template with a queue, a FIFO queue, a function (timeout 30 s) and one mapping with these properties. */
function specsFor(mapping: Record<string, unknown>, queue: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(scratch, 'template-'));
  const resources: Record<string, TemplateResource> = {
    Work: { Type: 'AWS::SQS::Queue', Properties: { VisibilityTimeout: 180, ...queue } },
    Fifo: { Type: 'AWS::SQS::Queue', Properties: { FifoQueue: true, QueueName: 'Work.fifo', VisibilityTimeout: 180 } },
    Worker: { Type: 'AWS::Lambda::Function', Properties: { Runtime: 'nodejs22.x', Timeout: 30 } },
    Mapping: {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: { EventSourceArn: { 'Fn::GetAtt': ['Work', 'Arn'] }, FunctionName: { Ref: 'Worker' }, ...mapping },
    },
  };
  writeFileSync(join(dir, 'Orderflow.template.json'), JSON.stringify({ Resources: resources }));
  return sqsEventSourceMappingSpecs(loadTemplate(dir), context);
}
const refusal = (mapping: Record<string, unknown>, queue?: Record<string, unknown>) => {
  try {
    specsFor(mapping, queue);
  } catch (error: unknown) {
    expect(error).toBeInstanceOf(TemplateError);
    return (error as Error).message;
  }
  throw new Error('the mapping was accepted');
};

describe('an SQS event source mapping read from the template', () => {
  it("takes Lambda's defaults for what the template leaves out", () => {
    expect(specsFor({})).toEqual([
      {
        logicalId: 'Mapping',
        queueLogicalId: 'Work',
        queueArn: 'arn:aws:sqs:us-east-1:000000000000:Work',
        functionLogicalId: 'Worker',
        functionName: 'Worker',
        functionTimeoutSeconds: 30,
        settings: {
          batchSize: 10,
          maximumBatchingWindowInSeconds: 0,
          reportBatchItemFailures: false,
          filters: [],
          enabled: true,
        },
      },
    ]);
  });

  it('reads every setting it runs with; a function ARN names the function as well as its name', () => {
    const [spec] = specsFor({
      FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:Worker',
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 5,
      ScalingConfig: { MaximumConcurrency: 2 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      Enabled: 'false',
      FilterCriteria: { Filters: [{ Pattern: '{"body":{"kind":["keep"]}}' }] },
      KmsKeyArn: 'arn:aws:kms:us-east-1:000000000000:key/k',
      Tags: [{ Key: 'team', Value: 'orders' }],
    });
    expect(spec?.functionLogicalId).toBe('Worker');
    expect(spec?.settings).toEqual({
      batchSize: 500,
      maximumBatchingWindowInSeconds: 5,
      maximumConcurrency: 2,
      reportBatchItemFailures: true,
      filters: [{ body: { kind: ['keep'] } }],
      enabled: false,
    });
  });

  it.each([
    [
      { BatchSize: 11 },
      'Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10',
    ],
    [{ BatchSize: 10_001, MaximumBatchingWindowInSeconds: 1 }, 'BatchSize must be an integer from 1 to 10000'],
    [{ BatchSize: 0 }, 'BatchSize must be an integer from 1 to 10000'],
    [{ MaximumBatchingWindowInSeconds: 301 }, 'MaximumBatchingWindowInSeconds must be an integer from 0 to 300'],
    [
      { ScalingConfig: { MaximumConcurrency: 1 } },
      'ScalingConfig.MaximumConcurrency must be an integer from 2 to 1000',
    ],
    [
      { ScalingConfig: { MaximumConcurrency: 1001 } },
      'ScalingConfig.MaximumConcurrency must be an integer from 2 to 1000',
    ],
    [
      { FunctionResponseTypes: ['ReportBatchFailures'] },
      'FunctionResponseTypes must be [] or ["ReportBatchItemFailures"]',
    ],
    [{ MaximumRetryAttempts: 3 }, 'MaximumRetryAttempts applies to stream, Kafka, MQ or DocumentDB sources'],
    [{ BisectBatchOnFunctionError: true }, 'BisectBatchOnFunctionError applies to stream'],
    [{ ProvisionedPollerConfig: { MinimumPollers: 2 } }, 'ProvisionedPollerConfig is not emulated locally'],
    [{ MetricsConfig: { Metrics: ['EventCount'] } }, 'MetricsConfig is not emulated locally'],
    [
      { EventSourceArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/s', StartingPosition: undefined },
      'is a kinesis source; only Amazon SQS queues of the template run locally',
    ],
    [{ EventSourceArn: 'arn:aws:sqs:us-east-1:000000000000:Elsewhere' }, 'is not a queue of the template'],
    [{ EventSourceArn: { 'Fn::GetAtt': ['Fifo', 'Arn'] } }, 'queue Fifo is a FIFO queue'],
    [{ FunctionName: 'Worker:live' }, 'names a version or alias (live)'],
    [{ FunctionName: 'Other' }, 'FunctionName Other is not a function of the template'],
  ])('refuses %j: %s', (mapping, message) => {
    expect(refusal(mapping)).toContain(message);
  });

  it('refuses a queue that would show a message again before the function could finish, as Lambda does', () => {
    expect(refusal({}, { VisibilityTimeout: 20 })).toContain(
      'Queue visibility timeout: 20 seconds is less than Function timeout: 30 seconds',
    );
  });

  it('refuses filters Lambda would refuse: too many, not JSON, on a field other than body, or invalid patterns', () => {
    const filters = (...patterns: string[]) => ({
      FilterCriteria: { Filters: patterns.map((Pattern) => ({ Pattern })) },
    });
    expect(refusal(filters(...Array.from({ length: 6 }, () => '{"body":{"a":["x"]}}')))).toContain(
      'FilterCriteria has 6 filters; an event source mapping takes at most 5',
    );
    expect(refusal(filters('{"body":'))).toContain('FilterCriteria.Filters[0].Pattern is not JSON');
    expect(refusal(filters('{"attributes":{"SenderId":["x"]}}'))).toContain(
      'filters on attributes; SQS event source mappings only support filtering on the body key',
    );
    expect(refusal(filters('{"body":{"a":"x"}}'))).toContain('FilterCriteria.Filters[0].Pattern');
    expect(refusal(filters(`{"body":{"a":["${'x'.repeat(4100)}"]}}`))).toContain('at most 4096');
  });
});

const record = (body: string): SqsRecord => ({
  messageId: 'm-1',
  receiptHandle: 'r-1',
  body,
  attributes: { ApproximateReceiveCount: '1' },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:Work',
  awsRegion: 'us-east-1',
});

describe('FilterCriteria on an SQS message (Lambda guide, "Properly filtering Amazon SQS messages")', () => {
  const jsonFilter = sqsFilter([{ body: { kind: ['keep'], n: [{ numeric: ['>', 1] }] } }]);
  const stringFilter = sqsFilter([{ body: [{ prefix: 'keep' }] }]);

  it('applies a JSON body pattern to a JSON body, parsed, with numbers as JSON numbers', () => {
    expect(jsonFilter(record('{"kind":"keep","n":2}'))).toBe(true);
    expect(jsonFilter(record('{"kind":"keep","n":1}'))).toBe(false);
    expect(jsonFilter(record('{"kind":"skip","n":2}'))).toBe(false);
  });

  it('drops a message whose body format does not match the pattern: a plain string for a JSON pattern, and back', () => {
    expect(jsonFilter(record('keep me'))).toBe(false);
    expect(stringFilter(record('keep me'))).toBe(true);
    expect(stringFilter(record('"keep me"'))).toBe(false);
    expect(stringFilter(record('{"kind":"keep"}'))).toBe(false);
  });

  it('passes a message when any filter matches, and every message when there are none', () => {
    const either = sqsFilter([{ body: { kind: ['keep'] } }, { body: [{ prefix: 'keep' }] }]);
    expect(either(record('{"kind":"keep"}'))).toBe(true);
    expect(either(record('keep going'))).toBe(true);
    expect(either(record('{"kind":"drop"}'))).toBe(false);
    expect(sqsFilter([])(record('anything'))).toBe(true);
  });
});

describe('a partial batch response (Lambda guide, "Handling errors for an SQS event source")', () => {
  const batch = [{ messageId: 'a' }, { messageId: 'b' }];
  it.each([null, undefined, {}, { batchItemFailures: null }, { batchItemFailures: [] }])(
    'is a complete success for %j',
    (response) => {
      expect(failedMessageIds(response, batch)).toEqual(new Set());
    },
  );

  it('names the failed messages by messageId', () => {
    expect(failedMessageIds({ batchItemFailures: [{ itemIdentifier: 'b' }] }, batch)).toEqual(new Set(['b']));
  });

  it.each([
    ['a string response', 'ok'],
    ['a list response', [{ itemIdentifier: 'a' }]],
    ['batchItemFailures not a list', { batchItemFailures: { itemIdentifier: 'a' } }],
    ['an empty itemIdentifier', { batchItemFailures: [{ itemIdentifier: '' }] }],
    ['a null itemIdentifier', { batchItemFailures: [{ itemIdentifier: null }] }],
    ['a bad key name', { batchItemFailures: [{ messageId: 'a' }] }],
    ['a message not in the batch', { batchItemFailures: [{ itemIdentifier: 'z' }] }],
  ])('is a complete failure for %s', (_, response) => {
    expect(failedMessageIds(response, batch)).toBe('all');
  });
});
