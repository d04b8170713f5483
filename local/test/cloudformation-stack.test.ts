import { join } from 'node:path';
import { LOGICAL_IDS, PIPES, STACK_NAME } from '@orderflow/pipeline/facts';
import { describe, expect, it } from 'vitest';
import { describeLocalStack } from '../src/cloudformation/stack.ts';
import { frontResources } from '../src/http-api/template.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION, REPO_ROOT } from '../src/runtime.ts';
import type { LocalResourceValue } from '../src/template/intrinsics.ts';
import { loadTemplate } from '../src/template/local-plan.ts';

/**
 * How the stack's outputs and physical ids are read from the synthesized template and the runtime's values, without
 * starting a runtime: an output is resolved only from values the runtime has (never from the resolver's placeholders),
 * and one it lacks is listed with the reason. (The endpoint itself: cloudformation-endpoint.test.ts.)
 */
const loaded = loadTemplate(join(REPO_ROOT, 'stack/cdk.out'));
const names = { region: LOCAL_REGION, account: LOCAL_ACCOUNT, stackName: STACK_NAME };
const created = new Date('2026-12-07T10:00:00.000Z');
const ORDERS_TABLE = 'orders-local';
const DLQ_URL = 'http://127.0.0.1:4566/000000000000/standard-dlq';

function values(front?: { api: string; console: string }): Map<string, LocalResourceValue> {
  const apiId = Object.entries(loaded.template.Resources).find(([, r]) => r.Type === 'AWS::ApiGatewayV2::Api')?.[0];
  const distributionId = Object.entries(loaded.template.Resources).find(
    ([, r]) => r.Type === 'AWS::CloudFront::Distribution',
  )?.[0];
  const endpoints =
    front && apiId && distributionId
      ? { apis: new Map([[apiId, front.api]]), distributions: new Map([[distributionId, front.console]]) }
      : undefined;
  const map = new Map(frontResources(loaded, names, endpoints));
  map.set(LOGICAL_IDS.ordersTable, { ref: ORDERS_TABLE, attributes: {} });
  map.set(PIPES.standard.dlqId, { ref: DLQ_URL, attributes: {} });
  return map;
}

const outputOf = (stack: ReturnType<typeof describeLocalStack>, key: string) =>
  stack.outputs.find((o) => o.OutputKey === key)?.OutputValue;

describe('describeLocalStack', () => {
  it("resolves outputs from the runtime's values and leaves out, with the reason, those it has none for", () => {
    const stack = describeLocalStack({ loaded, context: { ...names, resources: values() }, created });
    expect(outputOf(stack, 'OrdersTableName')).toBe(ORDERS_TABLE);
    expect(outputOf(stack, 'standardDeadLetterQueueUrl')).toBe(DLQ_URL);
    // The premium DLQ has no value here: the resolver would answer its logical id; the stack leaves it out instead.
    expect(outputOf(stack, 'premiumDeadLetterQueueUrl')).toBeUndefined();
    expect(stack.unresolved).toEqual(
      expect.arrayContaining([
        { key: 'premiumDeadLetterQueueUrl', reason: `Ref ${PIPES.premium.dlqId} has no local value` },
        { key: 'OpsApiUrl', reason: expect.stringContaining('.ApiEndpoint has no local value') },
        { key: 'ConsoleUrl', reason: expect.stringContaining('.DomainName has no local value') },
      ]),
    );
    for (const { key } of stack.unresolved) expect(outputOf(stack, key)).toBeUndefined();
  });

  it("gives the front's outputs their local URLs when the front runs (the console's as plain http)", () => {
    const front = { api: 'http://127.0.0.1:4100', console: '127.0.0.1:4200' };
    const stack = describeLocalStack({
      loaded,
      context: { ...names, resources: values(front) },
      created,
      localValue: (value) => value.replace(`https://${front.console}`, `http://${front.console}`),
    });
    expect(outputOf(stack, 'OpsApiUrl')).toBe(front.api);
    expect(outputOf(stack, 'ConsoleUrl')).toBe(`http://${front.console}`);
    expect(stack.unresolved.map((u) => u.key)).not.toContain('OpsApiUrl');
  });

  it('names the mappings by the Lambda API UUID and gives a resource the runtime does not create no physical id', () => {
    const stack = describeLocalStack({ loaded, context: { ...names, resources: values() }, created });
    const mapping = stack.resources.find((r) => r.type === 'AWS::Lambda::EventSourceMapping');
    expect(mapping?.physicalId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const policy = stack.resources.find((r) => r.type === 'AWS::IAM::Policy');
    expect(policy).toMatchObject({
      physicalId: undefined,
      reason: 'AWS::IAM::Policy is not created by the local runtime',
    });
    expect(stack.id).toBe(describeLocalStack({ loaded, context: { ...names, resources: new Map() }, created }).id);
    expect(stack.created).toBe(created);
  });
});
