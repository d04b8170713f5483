import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { LocalResourceValue } from '../src/template/intrinsics.ts';
import {
  alarmSpecs,
  functionSpecs,
  loadTemplate,
  pipeSpecs,
  queueSpecs,
  summarize,
  TemplateError,
  tableSpecs,
} from '../src/template/local-plan.ts';

const fixture = fileURLToPath(new URL('./fixtures/template', import.meta.url));
const names = { region: 'us-east-1', account: '000000000000', stackName: 'Orderflow' };
const resources = new Map<string, LocalResourceValue>([
  ['Processor', { ref: 'Processor', attributes: { Arn: 'arn:aws:lambda:us-east-1:000000000000:function:Processor' } }],
  [
    'OrdersTable',
    {
      ref: 'OrdersTable',
      attributes: { StreamArn: 'arn:aws:dynamodb:ddblocal:000000000000:table/OrdersTable/stream/x' },
    },
  ],
  [
    'Dlq',
    {
      ref: 'http://127.0.0.1:1/000000000000/Dlq',
      attributes: { Arn: 'arn:aws:sqs:us-east-1:000000000000:Dlq', QueueName: 'Dlq' },
    },
  ],
]);
const context = { ...names, resources };
const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

function brokenCopy(edit: (dir: string) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'orderflow-template-'));
  scratch.push(dir);
  cpSync(fixture, dir, { recursive: true });
  edit(dir);
  return dir;
}

describe('template reader', () => {
  const loaded = loadTemplate(fixture);

  it('summarises what it runs and lists the types it ignores', () => {
    expect(summarize(loaded).ignored).toEqual({ 'AWS::IAM::Role': 1 });
    expect(summarize(loaded).supported['AWS::Lambda::Function']).toBe(2);
  });

  it('reads tables and queues with their keys, stream, TTL and attributes', () => {
    expect(tableSpecs(loaded, names)).toEqual([
      expect.objectContaining({ name: 'OrdersTable', streamViewType: 'NEW_AND_OLD_IMAGES', ttlAttribute: 'expiresAt' }),
    ]);
    expect(queueSpecs(loaded, names)).toEqual([
      { logicalId: 'Dlq', name: 'Dlq', attributes: { MessageRetentionPeriod: '1209600' } },
    ]);
  });

  it('resolves Ref, GetAtt, Join and Sub in function environments and finds the code asset', () => {
    const { functions, skipped } = functionSpecs(loaded, context);
    expect(skipped).toEqual([
      { logicalId: 'Provider', reason: 'runtime python3.12 (only Node.js functions run locally)' },
    ]);
    expect(functions[0]?.codeDir).toBe(join(fixture, 'asset.abc123'));
    expect(functions[0]?.environment).toEqual({
      TABLE: 'OrdersTable',
      DLQ_URL: 'http://127.0.0.1:1/000000000000/Dlq',
      STREAM: 'arn:aws:dynamodb:ddblocal:000000000000:table/OrdersTable/stream/x',
      JOINED: 'us-east-1/Dlq',
      SUBBED: '000000000000:arn:aws:sqs:us-east-1:000000000000:Dlq:${Literal}',
    });
  });

  it('reads pipes with AWS defaults for unset source parameters', () => {
    expect(pipeSpecs(loaded, context)).toEqual([
      expect.objectContaining({
        name: 'fixture-pipe',
        sourceTableId: 'OrdersTable',
        targetFunction: 'Processor',
        deadLetterQueueId: 'Dlq',
        filters: [{ dynamodb: { NewImage: { orderStatus: { S: ['pending'] } } } }],
        settings: expect.objectContaining({
          batchSize: 7,
          startingPosition: 'LATEST',
          maximumRetryAttempts: -1,
          parallelizationFactor: 1,
        }),
      }),
    ]);
  });

  it('refuses a pipe whose source settings AWS would refuse, naming the pipe and the value', () => {
    const youngRecords = brokenCopy((dir) => {
      const file = join(dir, 'Orderflow.template.json');
      const template = JSON.parse(readFileSync(file, 'utf8'));
      template.Resources.Pipe.Properties.SourceParameters.DynamoDBStreamParameters.MaximumRecordAgeInSeconds = 30;
      writeFileSync(file, JSON.stringify(template));
    });
    const load = () => pipeSpecs(loadTemplate(youngRecords), context);
    expect(load).toThrow(TemplateError);
    expect(load).toThrow(
      "maximumRecordAgeInSeconds 30 for pipe 'Pipe' is below 60; AWS allows -1 (unlimited) or 60 to 604800",
    );
  });

  it('refuses a pipe filter that Pipes cannot evaluate, such as one on the poller-added eventName', () => {
    const onEventName = brokenCopy((dir) => {
      const file = join(dir, 'Orderflow.template.json');
      const template = JSON.parse(readFileSync(file, 'utf8'));
      template.Resources.Pipe.Properties.SourceParameters.FilterCriteria.Filters.push({
        Pattern: JSON.stringify({ eventName: ['INSERT'] }),
      });
      writeFileSync(file, JSON.stringify(template));
    });
    const load = () => pipeSpecs(loadTemplate(onEventName), context);
    expect(load).toThrow(TemplateError);
    expect(load).toThrow(
      'pipe Pipe: FilterCriteria.Filters[1].Pattern: Event pattern is not valid. Reason: eventName cannot be used in an EventBridge Pipes filter: the Pipes poller adds it to each record, and Pipes filters only on fields the source sends at $.eventName',
    );
  });

  it('turns a single-metric alarm into a query with resolved dimensions', () => {
    const [alarm] = alarmSpecs(loaded, context);
    expect(alarm).toMatchObject({ kind: 'metric', threshold: 0, treatMissingData: 'missing', datapointsToAlarm: 1 });
    expect(alarm?.kind === 'metric' && alarm.queries[0]?.MetricStat?.Metric.Dimensions).toEqual([
      { Name: 'QueueName', Value: 'Dlq' },
    ]);
  });

  it('stops with a message naming the culprit: malformed template, missing asset', () => {
    const malformed = brokenCopy((dir) => writeFileSync(join(dir, 'Orderflow.template.json'), '{"Resources": '));
    expect(() => loadTemplate(malformed)).toThrow(/Orderflow\.template\.json is not valid JSON/);
    const noAsset = brokenCopy((dir) => rmSync(join(dir, 'asset.abc123'), { recursive: true }));
    expect(() => functionSpecs(loadTemplate(noAsset), context)).toThrow(
      /function Processor: its code asset .*asset\.abc123 is missing/,
    );
  });
});
