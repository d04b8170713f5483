import { createVerify } from 'node:crypto';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { LOCAL_ACCOUNT, stringToSign } from '@orderflow/local';
import {
  alarmDescriptionLinks,
  alarmName,
  alarmWindowSeconds,
  consoleDeepLink,
  PIPE_ALARMS,
  PIPES,
  runbookPath,
} from '@orderflow/pipeline/facts';
import { expect, test } from '../fixtures.ts';
import { InboxPage } from '../pages/inbox-page.ts';
import { OnCallMailbox } from '../support/on-call.ts';
import { anOrder } from '../support/orders.ts';

const DLQ_ALARM = alarmName('dlq-has-messages', 'standard');
const DLQ_ALARM_DEFINITION = PIPE_ALARMS.find((alarm) => alarm.slug === 'dlq-has-messages');

test('the DLQ alarm fires, shows its runbook, and its deep link opens the DLQ of that pipe', async ({
  consoleApp,
  alarmsPage,
  deadLetters,
  page,
}) => {
  const order = anOrder('oncall');
  await deadLetters.failProcessorFor('standard', [order]);

  await consoleApp.signInAs('viewer');
  await alarmsPage.open();
  await expect(async () => {
    await page.reload();
    await expect(alarmsPage.alarm(DLQ_ALARM).getByText('ALARM', { exact: true })).toBeVisible({ timeout: 2000 });
  }).toPass({ timeout: 60_000 });
  await expect(alarmsPage.runbookOf(DLQ_ALARM)).toHaveAttribute('href', /docs\/runbooks\/dlq-has-messages\.md$/);
  await consoleApp.recordView('alarms');

  await alarmsPage.followDeepLinkOf(DLQ_ALARM);
  await expect(page).toHaveURL(/\/dlqs\?pipe=standard&window=\d+$/);
  await expect(page.getByRole('heading', { name: `Messages of the ${PIPES.standard.title} pipe` })).toBeVisible();
  await expect(page.getByRole('table', { name: 'Dead-letter messages' }).getByText(order.orderId)).toBeVisible();
});

test('on call under IAM enforcement: the DLQ alarm mails ALARM with its runbook and console links, the link shows the dead letters, the redrive after the fix mails OK', async ({
  runtime,
  consoleApp,
  deadLetters,
  dlqPage,
  page,
}) => {
  // Two alarm periods at most: waiting for the alarm to settle, then for it to clear after the redrive (the DLQ alarm
  // looks at one-minute periods; the runtime evaluates every second).
  test.setTimeout(300_000);
  if (!DLQ_ALARM_DEFINITION) throw new Error('pipeline defines no dlq-has-messages alarm');
  expect(runtime.info.iam?.enforcement, 'the scenario runs under IAM enforcement').toBe('on');
  const mailbox = OnCallMailbox.of(runtime);
  const consoleUrl = String(runtime.info.console).replace(/\/+$/, '');
  const inbox = new InboxPage(page);

  // Earlier specs of this runtime fill and empty the same DLQ: start from an alarm in OK, so that its next ALARM is
  // this scenario's.
  await expect
    .poll(() => runtime.alarms.status.get(DLQ_ALARM)?.state, {
      message: `${DLQ_ALARM} is OK before the scenario starts`,
      timeout: 150_000,
    })
    .toBe('OK');
  const started = new Date().toISOString();
  const deniedBefore = runtime.denials.count;

  // The standard processor breaks: it runs, but its downstream queue refuses every call, so each record fails,
  // is journaled, and the pipe sends the batch to its DLQ.
  const order = anOrder('oncall-mail');
  await deadLetters.breakProcessor('standard', 'downstream');
  let repaired = false;
  try {
    await deadLetters.writeAndAwait('standard', [order]);

    // The on-call address receives CloudWatch's notification, as an email-json subscriber receives it.
    const { delivered, alarm } = await mailbox.next(DLQ_ALARM, 'ALARM', started);
    const notification = delivered.notification;
    const [topicArn] = runtime.alarms.spec(DLQ_ALARM)?.actions?.ALARM ?? [];
    expect(notification).toMatchObject({
      Type: 'Notification',
      TopicArn: topicArn,
      Subject: OnCallMailbox.subject('ALARM', DLQ_ALARM),
      SignatureVersion: expect.stringMatching(/^[12]$/),
    });
    // Signed as SNS signs, verifiable with the key its SigningCertURL serves, as a subscriber checks it.
    const signingKey = await (await page.request.get(notification.SigningCertURL)).text();
    const verifier = createVerify(notification.SignatureVersion === '1' ? 'RSA-SHA1' : 'RSA-SHA256');
    verifier.update(stringToSign(notification));
    expect(verifier.verify(signingKey, notification.Signature, 'base64'), 'the notification signature').toBe(true);
    expect(alarm).toMatchObject({
      AlarmName: DLQ_ALARM,
      AWSAccountId: LOCAL_ACCOUNT,
      NewStateValue: 'ALARM',
      OldStateValue: 'OK',
      NewStateReason: expect.stringMatching(/^Threshold Crossed: /),
      StateChangeTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/),
      Region: 'US East (N. Virginia)',
      AlarmArn: runtime.alarms.arnOf(DLQ_ALARM),
      // The alarm's definition, as pipeline states it: one metric (statistic in capitals) or metric math.
      Trigger:
        DLQ_ALARM_DEFINITION.kind === 'metric'
          ? {
              MetricName: DLQ_ALARM_DEFINITION.metric.metricName,
              Namespace: DLQ_ALARM_DEFINITION.metric.namespace,
              Statistic: DLQ_ALARM_DEFINITION.metric.statistic.toUpperCase(),
            }
          : {
              Metrics: expect.arrayContaining([
                expect.objectContaining({ Expression: DLQ_ALARM_DEFINITION.expression }),
              ]),
            },
    });

    // The description carries the runbook and the console view to start from, as the local console site serves them.
    const links = alarmDescriptionLinks(alarm.AlarmDescription ?? '');
    const deepLink = consoleDeepLink(consoleUrl, DLQ_ALARM_DEFINITION.consoleView, {
      pipe: 'standard',
      windowSeconds: alarmWindowSeconds(DLQ_ALARM_DEFINITION),
    });
    expect(links).toEqual({ runbookUrl: `${consoleUrl}/${runbookPath('dlq-has-messages')}`, consoleUrl: deepLink });
    const runbook = await page.request.get(links.runbookUrl ?? '');
    expect(runbook.ok(), `GET ${links.runbookUrl}`).toBe(true);
    expect(await runbook.text()).toContain('# Runbook: dead-letter queue has messages');

    // On call opens the link from the mail: the failing pipe's dead letters, this order among them.
    await consoleApp.signInAs('operator');
    await page.goto(links.consoleUrl ?? '');
    await expect(page.getByRole('heading', { name: `Messages of the ${PIPES.standard.title} pipe` })).toBeVisible();
    await dlqPage.showOrder(order.orderId);
    await expect(dlqPage.messageFor(order.orderId)).toBeVisible();

    // The console's on-call inbox shows the same mail, with the same two links.
    await consoleApp.openView('On-call inbox');
    const alarmRow = inbox.messagesWith(OnCallMailbox.subject('ALARM', DLQ_ALARM)).first();
    await expect(inbox.state(alarmRow, 'ALARM')).toBeVisible();
    await expect(inbox.runbookLink(alarmRow)).toHaveAttribute('href', links.runbookUrl ?? '');
    await consoleApp.recordView('inbox');

    // The fix, then the redrive, from the view the inbox's link opens.
    await deadLetters.repairProcessor('standard');
    repaired = true;
    await inbox.consoleLink(alarmRow).click();
    await expect(page).toHaveURL(deepLink);
    await dlqPage.showOrder(order.orderId);
    await dlqPage.select(order.orderId);
    const results = await dlqPage.redriveSelected();
    await expect(results.getByRole('row').filter({ hasText: 'redriven and deleted from the queue' })).toHaveCount(1);
    await expect(results.getByRole('row').filter({ hasText: 'kept in the queue' })).toHaveCount(0);

    // The DLQ is empty again: once a whole alarm period has passed without messages, on call gets OK.
    const ok = await mailbox.next(DLQ_ALARM, 'OK', delivered.deliveredAt, 150_000);
    expect(ok.alarm).toMatchObject({
      AlarmName: DLQ_ALARM,
      NewStateValue: 'OK',
      OldStateValue: 'ALARM',
      NewStateReason: expect.stringMatching(/^Threshold Crossed: .* for ALARM -> OK transition\)\.$/),
    });
    expect(alarmDescriptionLinks(ok.alarm.AlarmDescription ?? '')).toEqual(links);
    await consoleApp.openView('On-call inbox');
    await expect(inbox.state(inbox.messagesWith(OnCallMailbox.subject('OK', DLQ_ALARM)).first(), 'OK')).toBeVisible();
  } finally {
    if (!repaired) await deadLetters.repairProcessor('standard');
  }

  // Under enforcement the whole path ran without one refused call: a denial here is a permission the stack lacks.
  expect(runtime.denials.list({ since: Date.parse(started) }), 'IAM denials during the on-call path').toEqual([]);
  expect(runtime.denials.count).toBe(deniedBefore);
});

test('a call a role of the stack is not allowed shows in the overview’s IAM denials', async ({
  runtime,
  consoleApp,
  overview,
}) => {
  // The standard processor's role (Lambda names its session after the function) appending to the audit table, which
  // only the ops API may write: the stack grants it nothing there, so AWS would refuse it, and so does the runtime.
  const processor = runtime.info.resources.pipes.standard.function;
  const role = runtime.iam.principals.entries.find((entry) => entry.principal.sessionName === processor);
  if (!role) throw new Error(`no role of the template acts as ${processor}`);
  const dynamodb = new DynamoDBClient({
    region: runtime.info.region,
    endpoint: runtime.info.endpoints.dynamodb,
    credentials: role.credentials,
  });
  const table = runtime.info.resources.auditTable;
  try {
    const refused = await dynamodb
      .send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'not-the-processors-to-write' } } }))
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ name: 'AccessDeniedException' });
  } finally {
    dynamodb.destroy();
  }

  await consoleApp.signInAs('viewer');
  await overview.open();
  const resource = `arn:aws:dynamodb:${runtime.info.region}:${LOCAL_ACCOUNT}:table/${table}`;
  const denial = overview.denialsOf('dynamodb:PutItem', resource).first();
  await expect(denial).toBeVisible();
  await expect(denial).toContainText(role.principal.logicalId);
  await expect(denial).toContainText(`assumed-role/${role.principal.roleArn.split('/').pop()}/${processor}`);
  await expect(denial).toContainText('no-identity-allow');
  await consoleApp.recordView('overview-denials');
});
