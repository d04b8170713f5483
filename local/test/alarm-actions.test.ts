import { createVerify } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alarmName } from '@orderflow/pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAlarmActions } from '../src/cloudwatch/actions.ts';
import { AlarmBoard } from '../src/cloudwatch/alarms.ts';
import { MetricStore } from '../src/cloudwatch/metric-store.ts';
import { DenialLog } from '../src/gateway/denials.ts';
import { Enforcer } from '../src/gateway/enforcer.ts';
import { PrincipalDirectory } from '../src/gateway/principals.ts';
import { buildPolicySet, createAuthorizer } from '../src/iam/index.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION, REPO_ROOT } from '../src/runtime.ts';
import { stringToSign } from '../src/sns/envelope.ts';
import type { SubscriptionSpec } from '../src/sns/model.ts';
import { Outbox } from '../src/sns/outbox.ts';
import { SnsService } from '../src/sns/sns-service.ts';
import type { CloudFormationTemplate, LocalResourceValue } from '../src/template/intrinsics.ts';
import {
  alarmSpecs,
  keySpecs,
  type LoadedTemplate,
  loadTemplate,
  namedResources,
  queueSpecs,
  topicAndKeyResources,
  topicSpecs,
} from '../src/template/local-plan.ts';

/**
 * Alarm actions against the synthesized template's alarms, alarm topic, topic policy and key policy, evaluated by the
 * local IAM evaluator: what CloudWatch publishes, what the on-call address receives, what the history says.
 */
const templateDir = join(REPO_ROOT, 'stack/cdk.out');
const names = { region: LOCAL_REGION, account: LOCAL_ACCOUNT, stackName: 'Orderflow' };
const dlqAlarm = alarmName('dlq-has-messages', 'standard');
const ONCALL = 'oncall@orderflow.local';
let dir: string;

beforeAll(() => {
  if (!existsSync(join(templateDir, 'Orderflow.template.json')))
    throw new Error('stack/cdk.out has no template: run `npm run build -w stack`');
  dir = mkdtempSync(join(tmpdir(), 'orderflow-alarm-actions-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Harness {
  readonly board: AlarmBoard;
  readonly store: MetricStore;
  readonly outbox: Outbox;
  readonly sns: SnsService;
  readonly topicArn: string;
  readonly dlqName: string;
}

/** The template's alarms, topic and policies wired as the runtime wires them, with an email-json subscriber. */
async function harness(doctor?: (template: CloudFormationTemplate) => void): Promise<Harness> {
  const original = loadTemplate(templateDir);
  const template = structuredClone(original.template) as CloudFormationTemplate;
  doctor?.(template);
  const loaded: LoadedTemplate = { ...original, template };
  const resources = new Map<string, LocalResourceValue>(topicAndKeyResources(loaded, names));
  for (const spec of queueSpecs(loaded, names))
    resources.set(spec.logicalId, {
      ref: `http://127.0.0.1:1/${LOCAL_ACCOUNT}/${spec.name}`,
      attributes: { Arn: `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${spec.name}`, QueueName: spec.name },
    });
  for (const type of ['AWS::CloudWatch::Alarm', 'AWS::CloudWatch::CompositeAlarm'])
    for (const [id, name] of namedResources(loaded, names, type, 'AlarmName'))
      resources.set(id, {
        ref: name,
        attributes: { Arn: `arn:aws:cloudwatch:${LOCAL_REGION}:${LOCAL_ACCOUNT}:alarm:${name}` },
      });
  const context = { ...names, resources };
  const policies = await buildPolicySet(loaded, context);
  const enforcer = new Enforcer(createAuthorizer(policies), new PrincipalDirectory([]), new DenialLog(undefined));
  const topics = topicSpecs(loaded, context);
  const [topic] = topics;
  if (!topic) throw new Error('the template has no topic');
  const subscriptions: SubscriptionSpec[] = [
    {
      logicalId: 'OnCall',
      arn: `${topic.arn}:00000000-0000-4000-8000-000000000001`,
      topicArn: topic.arn,
      protocol: 'email-json',
      endpoint: ONCALL,
      rawMessageDelivery: false,
    },
  ];
  const outbox = new Outbox(mkdtempSync(join(dir, 'outbox-')));
  const sns = new SnsService({
    ...names,
    endpoint: 'http://127.0.0.1:9',
    topics,
    subscriptions,
    keys: keySpecs(loaded, names),
    authorize: (principal, permission, endpoint) => enforcer.authorize(principal, permission, endpoint),
    targets: {},
    outbox,
  });
  const store = new MetricStore();
  const board = new AlarmBoard(alarmSpecs(loaded, context), store, Date.now(), names);
  runAlarmActions(board, { ...names, sns, regionName: 'US East (N. Virginia)' });
  const dlqName = String(
    (board.spec(dlqAlarm) as { single?: { Dimensions: { Value: string }[] } }).single?.Dimensions[0]?.Value,
  );
  return { board, store, outbox, sns, topicArn: topic.arn, dlqName };
}

const depth = (h: Harness, value: number, timestamp = Date.now()) =>
  h.store.put({
    namespace: 'AWS/SQS',
    metricName: 'ApproximateNumberOfMessagesVisible',
    dimensions: { QueueName: h.dlqName },
    value,
    unit: 'Count',
    timestamp,
  });

const actionItems = (h: Harness, name = dlqAlarm) =>
  h.board.history.query({ alarmName: name, historyItemType: 'Action', alarmTypes: ['MetricAlarm', 'CompositeAlarm'] })
    .items;

const mailFor = (h: Harness, state: string, name = dlqAlarm) =>
  h.outbox
    .list({ to: ONCALL })
    .filter((m) => m.notification.Subject === `${state}: "${name}" in US East (N. Virginia)`);

describe('alarm actions through the template topic policy and key policy', () => {
  it('publishes AWS’s alarm notification on every transition, which the on-call subscriber receives signed', async () => {
    const h = await harness();
    const start = Date.now();
    h.board.evaluate(start);
    await h.sns.settled();
    // INSUFFICIENT_DATA → OK at the first evaluation runs the OK actions, as in CloudWatch.
    expect(mailFor(h, 'OK')).toHaveLength(1);
    depth(h, 3, start + 1000);
    h.board.evaluate(start + 1000);
    await h.sns.settled();
    const [alarm] = mailFor(h, 'ALARM');
    if (!alarm) throw new Error('no ALARM notification in the outbox');
    const envelope = alarm.notification;
    expect(Object.keys(envelope)).toEqual([
      'Type',
      'MessageId',
      'TopicArn',
      'Subject',
      'Message',
      'Timestamp',
      'SignatureVersion',
      'Signature',
      'SigningCertURL',
      'UnsubscribeURL',
    ]);
    expect(envelope).toMatchObject({ Type: 'Notification', TopicArn: h.topicArn, SignatureVersion: '1' });
    const verifier = createVerify('RSA-SHA1');
    verifier.update(stringToSign(envelope));
    expect(verifier.verify(await h.sns.signer.publicKeyPem(), envelope.Signature, 'base64')).toBe(true);

    const message = JSON.parse(envelope.Message) as Record<string, unknown>;
    expect(Object.keys(message)).toEqual([
      'AlarmName',
      'AlarmDescription',
      'AWSAccountId',
      'AlarmConfigurationUpdatedTimestamp',
      'NewStateValue',
      'NewStateReason',
      'StateChangeTime',
      'Region',
      'AlarmArn',
      'OldStateValue',
      'OKActions',
      'AlarmActions',
      'InsufficientDataActions',
      'Trigger',
    ]);
    expect(message).toMatchObject({
      AlarmName: dlqAlarm,
      AWSAccountId: LOCAL_ACCOUNT,
      NewStateValue: 'ALARM',
      OldStateValue: 'OK',
      Region: 'US East (N. Virginia)',
      AlarmArn: `arn:aws:cloudwatch:${LOCAL_REGION}:${LOCAL_ACCOUNT}:alarm:${dlqAlarm}`,
      AlarmActions: [h.topicArn],
      OKActions: [h.topicArn],
      InsufficientDataActions: [],
      Trigger: {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Namespace: 'AWS/SQS',
        StatisticType: 'Statistic',
        Statistic: 'MAXIMUM',
        Unit: null,
        Dimensions: [{ value: h.dlqName, name: 'QueueName' }],
        Period: 60,
        EvaluationPeriods: 1,
        DatapointsToAlarm: 1,
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        TreatMissingData: 'notBreaching',
        EvaluateLowSampleCountPercentile: '',
      },
    });
    expect(envelope.Message).toContain('"Threshold":0.0,');
    expect(String(message.NewStateReason)).toMatch(/^Threshold Crossed: 1 out of the last 1 datapoints \[3\.0 /);
    expect(String(message.StateChangeTime)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    // The on-call path: the runbook and the console deep link travel in the description.
    expect(String(message.AlarmDescription)).toContain('/docs/runbooks/dlq-has-messages.md');
    expect(String(message.AlarmDescription)).toContain('/dlqs?pipe=standard');

    const [success] = actionItems(h);
    expect(success?.summary).toBe(`Successfully executed action ${h.topicArn}`);
    const data = JSON.parse(success?.data ?? '{}') as Record<string, unknown>;
    expect(data).toMatchObject({ actionState: 'Succeeded', notificationResource: h.topicArn, error: null });
    expect(JSON.parse(String(data.publishedMessage))).toMatchObject({ default: envelope.Message });

    depth(h, 0, start + 61_000);
    h.board.evaluate(start + 61_000);
    await h.sns.settled();
    expect(mailFor(h, 'OK')).toHaveLength(2);
  });

  it('delivers nothing through a Deny-only topic policy, and the history says why', async () => {
    const h = await harness((template) => {
      for (const resource of Object.values(template.Resources))
        if (resource.Type === 'AWS::SNS::TopicPolicy') {
          const document = (resource.Properties as { PolicyDocument: { Statement: { Effect: string }[] } })
            .PolicyDocument;
          document.Statement = document.Statement.filter((statement) => statement.Effect === 'Deny');
        }
    });
    h.board.evaluate();
    await h.sns.settled();
    expect(h.outbox.list()).toEqual([]);
    const [failure] = actionItems(h);
    // AWS's words: the alarm is named as the caller (actions.ts, receivedError).
    const error = `Resource: ${h.board.arnOf(failure?.alarmName ?? '')} is not authorized to perform: SNS:Publish on resource: ${h.topicArn} because no resource-based policy allows the SNS:Publish action`;
    // HistorySummary holds at most 255 characters; HistoryData carries the whole error.
    const summary = `Failed to execute action ${h.topicArn}. Received error: "${error}"`;
    expect(failure?.summary).toBe(summary.length <= 255 ? summary : `${summary.slice(0, 252)}...`);
    expect(JSON.parse(failure?.data ?? '{}')).toMatchObject({ actionState: 'Failed', publishedMessage: null, error });
  });

  it('fails an encrypted topic’s action when the key policy does not let CloudWatch use the key', async () => {
    const h = await harness((template) => {
      for (const resource of Object.values(template.Resources))
        if (resource.Type === 'AWS::KMS::Key') {
          const policy = (resource.Properties as { KeyPolicy: { Statement: { Principal?: unknown }[] } }).KeyPolicy;
          policy.Statement = policy.Statement.filter((s) => JSON.stringify(s.Principal).includes(':root'));
        }
    });
    h.board.evaluate();
    await h.sns.settled();
    expect(h.outbox.list()).toEqual([]);
    expect(JSON.parse(actionItems(h)[0]?.data ?? '{}')).toMatchObject({
      actionState: 'Failed',
      error: 'CloudWatch Alarms does not have authorization to access the SNS topic encryption key.',
    });
  });

  it('runs no action while actions are disabled, and records the configuration change', async () => {
    const h = await harness();
    h.board.setActionsEnabled([dlqAlarm], false);
    h.board.evaluate();
    await h.sns.settled();
    expect(mailFor(h, 'OK')).toEqual([]);
    expect(actionItems(h)).toEqual([]);
    const [update] = h.board.history.query({ alarmName: dlqAlarm, historyItemType: 'ConfigurationUpdate' }).items;
    expect(update?.summary).toBe(`Alarm "${dlqAlarm}" updated`);
    h.board.setActionsEnabled([dlqAlarm], true);
    h.board.setState(dlqAlarm, 'ALARM', 'testing the on-call path');
    await h.sns.settled();
    expect(mailFor(h, 'ALARM')).toHaveLength(1);
  });

  it('keeps a state set by SetAlarmState until the next scheduled evaluation, which runs the actions back', async () => {
    const h = await harness();
    h.board.evaluate();
    h.board.setState(dlqAlarm, 'ALARM', 'testing the on-call path', '{"by":"test"}');
    h.board.evaluate(Date.now(), { scheduled: false });
    expect(h.board.status.get(dlqAlarm)).toMatchObject({ state: 'ALARM', reason: 'testing the on-call path' });
    h.board.evaluate();
    await h.sns.settled();
    expect(h.board.status.get(dlqAlarm)?.state).toBe('OK');
    const [alarm] = mailFor(h, 'ALARM');
    expect(JSON.parse(alarm?.notification.Message ?? '{}')).toMatchObject({
      NewStateReason: 'testing the on-call path',
      OldStateValue: 'OK',
    });
    expect(mailFor(h, 'OK')).toHaveLength(2);
    const states = h.board.history
      .query({ alarmName: dlqAlarm, historyItemType: 'StateUpdate', ascending: true })
      .items.map((item) => item.summary);
    expect(states).toEqual([
      'Alarm updated from INSUFFICIENT_DATA to OK',
      'Alarm updated from OK to ALARM',
      'Alarm updated from ALARM to OK',
    ]);
  });

  it('publishes a composite alarm’s notification with its rule and triggering children', async () => {
    const h = await harness();
    const composite = h.board.specs.find((spec) => spec.kind === 'composite');
    if (!composite) throw new Error('the template has no composite alarm');
    h.board.evaluate();
    depth(h, 1);
    h.board.evaluate();
    await h.sns.settled();
    const [mail] = mailFor(h, 'ALARM', composite.name);
    const message = JSON.parse(mail?.notification.Message ?? '{}') as Record<string, unknown>;
    expect(Object.keys(message)).toEqual([
      'AlarmName',
      'AlarmDescription',
      'AWSAccountId',
      'NewStateValue',
      'NewStateReason',
      'StateChangeTime',
      'Region',
      'AlarmArn',
      'OKActions',
      'AlarmActions',
      'InsufficientDataActions',
      'OldStateValue',
      'AlarmRule',
      'TriggeringChildren',
    ]);
    const child = `arn:aws:cloudwatch:${LOCAL_REGION}:${LOCAL_ACCOUNT}:alarm:${dlqAlarm}`;
    expect(message.NewStateReason).toMatch(
      new RegExp(
        `^${child.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} transitioned to ALARM at \\w+day \\d\\d \\w+, \\d{4} \\d\\d:\\d\\d:\\d\\d UTC$`,
      ),
    );
    expect(message.TriggeringChildren).toEqual([
      { Arn: child, State: { Value: 'ALARM', Timestamp: expect.any(String) } },
    ]);
  });
});
