import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudWatchClient,
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
  DisableAlarmActionsCommand,
  EnableAlarmActionsCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { DenialsResponse, InboxResponse } from '@orderflow/ops-api/schemas';
import { alarmName, alarmWindowSeconds, consoleDeepLink, PIPE_ALARMS, runbookPath } from '@orderflow/pipeline/facts';
import { until } from '@orderflow/pipeline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, REPO_ROOT, startLocalRuntime } from '../src/runtime.ts';
import { LOCAL_CREDENTIALS } from '../src/services/dynamodb-local.ts';
import type { OutboxMessage } from '../src/sns/outbox.ts';
import type { CloudFormationTemplate } from '../src/template/intrinsics.ts';

/**
 * The on-call path end to end on the local runtime, with the synthesized template and the ops API as deployed (what
 * `npm start` runs): a dead-letter queue fills, its alarm goes to ALARM, CloudWatch publishes to the alarm topic
 * through the topic policy and the KMS key policy, and the on-call address receives the notification with the runbook
 * and console links, which the console's inbox lists; after recovery it receives OK. The same template with the topic
 * policy's Allow deleted (the defect AWS-FACTS.md fact 12 describes) delivers nothing, the alarm history says why, and
 * the console's list of denials shows CloudWatch refused.
 */
const cdkOut = join(REPO_ROOT, 'stack/cdk.out');
const ONCALL = 'oncall@orderflow.local';
const dlqAlarm = alarmName('dlq-has-messages', 'standard');
const work = mkdtempSync(join(tmpdir(), 'orderflow-alarm-runtime-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * A copy of stack/cdk.out (assets linked, not copied) whose template is doctored by `change`. A template synthesized
 * without `-c alarmEmail` gets the subscription `npm start` synthesizes (`--alarm-email`, default
 * oncall@orderflow.local): the same AWS::SNS::Subscription CDK's EmailSubscription writes.
 */
function templateCopy(name: string, change: (template: CloudFormationTemplate) => void = () => undefined): string {
  const target = mkdtempSync(join(work, `${name}-template-`));
  for (const entry of readdirSync(cdkOut))
    if (entry.startsWith('asset.')) symlinkSync(join(cdkOut, entry), join(target, entry));
  writeFileSync(join(target, 'Orderflow.assets.json'), readFileSync(join(cdkOut, 'Orderflow.assets.json')));
  const template = JSON.parse(readFileSync(join(cdkOut, 'Orderflow.template.json'), 'utf8')) as CloudFormationTemplate;
  const resources = template.Resources as Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  const topicId = Object.keys(resources).find((id) => resources[id]?.Type === 'AWS::SNS::Topic');
  if (!topicId) throw new Error('the synthesized template has no alarm topic');
  if (!Object.values(resources).some((r) => r.Type === 'AWS::SNS::Subscription' && r.Properties?.Protocol === 'email'))
    resources.OnCallSubscription = {
      Type: 'AWS::SNS::Subscription',
      Properties: { Endpoint: ONCALL, Protocol: 'email', TopicArn: { Ref: topicId } },
    };
  change(template);
  writeFileSync(join(target, 'Orderflow.template.json'), JSON.stringify(template));
  return target;
}

async function start(templateDir: string, name: string): Promise<LocalRuntime> {
  return startLocalRuntime({
    templateDir,
    stateDir: mkdtempSync(join(work, `${name}-state-`)),
    observeIntervalMs: 300,
    pipeTiming: { pollIntervalMs: 100, retryBaseDelayMs: 20 },
    opsApi: 'lambda',
  });
}

/** A GET of the ops API the runtime runs (the bundled function behind the HTTP API), as the console sends it. */
async function opsApi<T>(runtime: LocalRuntime, path: string): Promise<T> {
  const response = await fetch(`${runtime.info.opsApi}${path}`, {
    headers: { authorization: `Bearer ${runtime.info.tokens.viewer}` },
  });
  if (!response.ok) throw new Error(`GET ${path} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

const clientsOf = (runtime: LocalRuntime) => {
  const config = { region: runtime.info.region, credentials: LOCAL_CREDENTIALS };
  return {
    sqs: new SQSClient({ ...config, endpoint: runtime.info.endpoints.sqs }),
    cloudwatch: new CloudWatchClient({ ...config, endpoint: runtime.info.endpoints.cloudwatch }),
  };
};

const mail = (runtime: LocalRuntime, state: string, name: string): OutboxMessage[] =>
  runtime.outbox
    .list({ to: ONCALL })
    .filter((m) => m.notification.Subject === `${state}: "${name}" in US East (N. Virginia)`);

describe('alarm actions on the local runtime, with the synthesized template', () => {
  let runtime: LocalRuntime;
  let clients: ReturnType<typeof clientsOf>;
  beforeAll(async () => {
    runtime = await start(templateCopy('real'), 'real');
    clients = clientsOf(runtime);
  }, 120_000);
  afterAll(async () => {
    clients?.sqs.destroy();
    clients?.cloudwatch.destroy();
    await runtime?.stop();
  });

  it('lists the SNS endpoint in runtime.json', () => {
    expect(runtime.info.endpoints.sns).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const written = JSON.parse(readFileSync(join(runtime.outbox.dir, '..', 'runtime.json'), 'utf8'));
    expect(written.endpoints.sns).toBe(runtime.info.endpoints.sns);
  });

  it('mails the on-call address ALARM when the DLQ fills, with the runbook and console links, and OK after recovery', async () => {
    // The first evaluation moves every alarm from INSUFFICIENT_DATA to OK, which runs its OK actions.
    await until(() => mail(runtime, 'OK', dlqAlarm).length === 1, `the first OK mail of ${dlqAlarm}`);
    const dlqUrl = runtime.info.resources.pipes.standard.dlqUrl;
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: '{"poison":true}' }));
    const [alarm] = await until(() => {
      const found = mail(runtime, 'ALARM', dlqAlarm);
      return found.length > 0 && found;
    }, `an ALARM mail for ${dlqAlarm}`);
    const message = JSON.parse(alarm?.notification.Message ?? '{}') as Record<string, unknown>;
    const definition = PIPE_ALARMS.find((a) => a.slug === 'dlq-has-messages');
    if (!definition) throw new Error('no dlq-has-messages alarm defined');
    expect(message).toMatchObject({
      AlarmName: dlqAlarm,
      NewStateValue: 'ALARM',
      OldStateValue: 'OK',
      AWSAccountId: '000000000000',
      Region: 'US East (N. Virginia)',
      // The alarm's definition as pipeline states it: a metric (Statistic in capitals) or metric math.
      Trigger:
        definition.kind === 'metric'
          ? {
              MetricName: definition.metric.metricName,
              Namespace: definition.metric.namespace,
              Statistic: definition.metric.statistic.toUpperCase(),
            }
          : { Metrics: expect.arrayContaining([expect.objectContaining({ Expression: definition.expression })]) },
    });
    // The links are the local console site's: plain HTTP on its port, where the deployed ones are HTTPS.
    const consoleUrl = String(runtime.info.console).replace(/\/+$/, '');
    const deepLink = consoleDeepLink(consoleUrl, definition.consoleView, {
      pipe: 'standard',
      windowSeconds: alarmWindowSeconds(definition),
    });
    const description = String(message.AlarmDescription);
    expect(description).toContain(`Runbook: ${consoleUrl}/${runbookPath('dlq-has-messages')}`);
    expect(description).toContain(`Console: ${deepLink}`);
    expect(deepLink).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/dlqs\?pipe=standard&window=\d+$/);
    expect((await fetch(deepLink)).headers.get('content-type')).toMatch(/^text\/html/);
    expect(alarm?.notification).toMatchObject({
      Type: 'Notification',
      SigningCertURL: `${runtime.info.endpoints.sns}/SimpleNotificationService-local.pem`,
    });

    const outbox = (await (await fetch(`${runtime.info.endpoints.sns}/_local/outbox?to=${ONCALL}`)).json()) as {
      messages: OutboxMessage[];
    };
    expect(outbox.messages.map((m) => m.file)).toContain(alarm?.file);
    // The console's on-call inbox: the same mail through the ops API, the alarm and its links read out.
    const inbox = await opsApi<InboxResponse>(runtime, '/api/local/inbox?limit=100');
    if (!inbox.available) throw new Error(`the inbox is not available: ${inbox.reason}`);
    expect(inbox.messages.find((m) => m.id === alarm?.file)).toMatchObject({
      to: ONCALL,
      subject: alarm?.notification.Subject,
      topicArn: alarm?.notification.TopicArn,
      alarm: {
        name: dlqAlarm,
        newState: 'ALARM',
        oldState: 'OK',
        runbookUrl: `${consoleUrl}/${runbookPath('dlq-has-messages')}`,
        consoleUrl: deepLink,
      },
    });

    const history = await clients.cloudwatch.send(
      new DescribeAlarmHistoryCommand({ AlarmName: dlqAlarm, HistoryItemType: 'Action' }),
    );
    const topicArn = alarm?.notification.TopicArn;
    expect(history.AlarmHistoryItems?.map((item) => item.HistorySummary)).toEqual([
      `Successfully executed action ${topicArn}`,
      `Successfully executed action ${topicArn}`,
    ]);
    expect(history.AlarmHistoryItems?.[0]?.Timestamp).toBeInstanceOf(Date);

    // Recovery: the message is consumed; the alarm's one-minute maximum falls to 0 in the next period.
    const received = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, WaitTimeSeconds: 1 }));
    for (const m of received.Messages ?? [])
      await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: m.ReceiptHandle }));
    const [ok] = await until(
      () => {
        const found = mail(runtime, 'OK', dlqAlarm).filter((m) => m.deliveredAt > (alarm?.deliveredAt ?? ''));
        return found.length > 0 && found;
      },
      `an OK mail for ${dlqAlarm} after recovery`,
      { timeoutMs: 90_000, intervalMs: 250 },
    );
    expect(JSON.parse(ok?.notification.Message ?? '{}')).toMatchObject({ NewStateValue: 'OK', OldStateValue: 'ALARM' });
  }, 150_000);

  it('serves EnableAlarmActions, DisableAlarmActions, SetAlarmState and DescribeAlarmHistory', async () => {
    const name = alarmName('processor-throttles', 'premium');
    const { cloudwatch } = clients;
    const describe = async () =>
      (await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [name] }))).MetricAlarms?.[0];
    await until(() => runtime.alarms.status.get(name)?.state === 'OK', `${name} OK`);
    await cloudwatch.send(new DisableAlarmActionsCommand({ AlarmNames: [name] }));
    expect((await describe())?.ActionsEnabled).toBe(false);
    await cloudwatch.send(
      new SetAlarmStateCommand({ AlarmName: name, StateValue: 'ALARM', StateReason: 'muted test' }),
    );
    await until(() => runtime.alarms.status.get(name)?.state === 'OK', `${name} back to OK`);
    expect(mail(runtime, 'ALARM', name)).toEqual([]);

    await cloudwatch.send(new EnableAlarmActionsCommand({ AlarmNames: [name] }));
    const enabled = await describe();
    expect(enabled).toMatchObject({ ActionsEnabled: true, AlarmActions: [expect.stringMatching(/^arn:aws:sns:/)] });
    await cloudwatch.send(
      new SetAlarmStateCommand({
        AlarmName: name,
        StateValue: 'ALARM',
        StateReason: 'paging drill',
        StateReasonData: '{}',
      }),
    );
    const [drill] = await until(() => {
      const found = mail(runtime, 'ALARM', name);
      return found.length > 0 && found;
    }, `the drill's ALARM mail for ${name}`);
    expect(JSON.parse(drill?.notification.Message ?? '{}')).toMatchObject({ NewStateReason: 'paging drill' });

    const states = await cloudwatch.send(
      new DescribeAlarmHistoryCommand({
        AlarmName: name,
        HistoryItemType: 'StateUpdate',
        ScanBy: 'TimestampAscending',
        MaxRecords: 2,
      }),
    );
    expect(states.AlarmHistoryItems?.map((item) => item.HistorySummary)).toEqual([
      'Alarm updated from INSUFFICIENT_DATA to OK',
      'Alarm updated from OK to ALARM',
    ]);
    const next = await cloudwatch.send(
      new DescribeAlarmHistoryCommand({
        AlarmName: name,
        HistoryItemType: 'StateUpdate',
        ScanBy: 'TimestampAscending',
        MaxRecords: 2,
        NextToken: states.NextToken,
      }),
    );
    expect(next.AlarmHistoryItems?.[0]?.HistorySummary).toBe('Alarm updated from ALARM to OK');
    const configuration = await cloudwatch.send(
      new DescribeAlarmHistoryCommand({ AlarmName: name, HistoryItemType: 'ConfigurationUpdate' }),
    );
    expect(configuration.AlarmHistoryItems?.map((item) => item.HistorySummary)).toEqual([
      `Alarm "${name}" updated`,
      `Alarm "${name}" updated`,
      `Alarm "${name}" created`,
    ]);

    const bad = await cloudwatch
      .send(new SetAlarmStateCommand({ AlarmName: name, StateValue: 'RED' as 'ALARM', StateReason: 'x' }))
      .catch((e: unknown) => e);
    expect(bad).toMatchObject({ name: 'InvalidParameterValueException' });
    expect((bad as Error).message).toContain('StateValue');
    const unknown = await cloudwatch
      .send(new SetAlarmStateCommand({ AlarmName: 'no-such-alarm', StateValue: 'OK', StateReason: 'x' }))
      .catch((e: unknown) => e);
    expect(unknown).toMatchObject({ name: 'ResourceNotFound', message: 'Alarm no-such-alarm not found' });
    const history = await cloudwatch
      .send(new DescribeAlarmHistoryCommand({ AlarmName: name, HistoryItemType: 'Everything' as 'Action' }))
      .catch((e: unknown) => e);
    expect((history as Error).message).toContain('HistoryItemType');
  });
});

describe('alarm actions on the local runtime, with a topic policy that only denies', () => {
  let runtime: LocalRuntime;
  let clients: ReturnType<typeof clientsOf>;
  beforeAll(async () => {
    const templateDir = templateCopy('deny-only', (template) => {
      for (const resource of Object.values(template.Resources)) {
        if (resource.Type !== 'AWS::SNS::TopicPolicy') continue;
        const document = (resource.Properties as { PolicyDocument: { Statement: { Effect: string }[] } })
          .PolicyDocument;
        document.Statement = document.Statement.filter((statement) => statement.Effect === 'Deny');
      }
    });
    runtime = await start(templateDir, 'deny-only');
    clients = clientsOf(runtime);
  }, 120_000);
  afterAll(async () => {
    clients?.sqs.destroy();
    clients?.cloudwatch.destroy();
    await runtime?.stop();
  });

  it('delivers nothing, and the alarm history and the denials say why', async () => {
    await clients.sqs.send(
      new SendMessageCommand({ QueueUrl: runtime.info.resources.pipes.standard.dlqUrl, MessageBody: '{}' }),
    );
    const failed = await until(async () => {
      const items = (
        await clients.cloudwatch.send(
          new DescribeAlarmHistoryCommand({ AlarmName: dlqAlarm, HistoryItemType: 'Action', MaxRecords: 10 }),
        )
      ).AlarmHistoryItems;
      // Newest first: the ALARM action comes after the first evaluation's OK action.
      return (items?.length ?? 0) >= 2 && items;
    }, `${dlqAlarm}'s ALARM action in its history`);
    const [alarmAction] = failed;
    // The history names the alarm as the caller, by the ARN DescribeAlarms gives it.
    const described = await clients.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [dlqAlarm] }));
    const alarmArn = described.MetricAlarms?.[0]?.AlarmArn ?? described.CompositeAlarms?.[0]?.AlarmArn;
    expect(alarmArn).toMatch(/^arn:aws:cloudwatch:us-east-1:000000000000:alarm:/);
    const data = JSON.parse(alarmAction?.HistoryData ?? '{}') as { actionState: string; error: string };
    const topicArn = String(JSON.parse(alarmAction?.HistoryData ?? '{}').notificationResource);
    expect(
      alarmAction?.HistorySummary?.startsWith(
        `Failed to execute action ${topicArn}. Received error: "Resource: ${alarmArn} is not authorized to perform: SNS:Publish`,
      ),
    ).toBe(true);
    expect(data).toMatchObject({
      actionState: 'Failed',
      error: `Resource: ${alarmArn} is not authorized to perform: SNS:Publish on resource: ${topicArn} because no resource-based policy allows the SNS:Publish action`,
    });
    expect(runtime.alarms.status.get(dlqAlarm)?.state).toBe('ALARM');
    expect(runtime.outbox.list()).toEqual([]);
    const denial = {
      principal: 'cloudwatch.amazonaws.com',
      action: 'SNS:Publish',
      resource: topicArn,
      reason: 'no-resource-allow',
      endpoint: 'alarm-action',
    };
    expect(runtime.denials.list({ limit: 1000 })).toContainEqual(expect.objectContaining(denial));
    // What the console's overview lists: the ops API as deployed reads the runtime's denials log.
    const denials = await opsApi<DenialsResponse>(runtime, '/api/local/denials?limit=100');
    if (!denials.available) throw new Error(`the denials are not available: ${denials.reason}`);
    expect(denials.denials).toContainEqual(expect.objectContaining({ ...denial, role: null }));
    const inbox = await opsApi<InboxResponse>(runtime, '/api/local/inbox');
    expect(inbox).toEqual({ available: true, messages: [] });
  });
});
