import { ALARM_STATES, alarmDescriptionLinks } from '@orderflow/pipeline/facts';
import { z } from 'zod';
import type { OpsApiConfig } from '../config.ts';
import type { AlarmNotification, DenialsResponse, InboxMessage, InboxResponse } from '../schemas/index.ts';

/**
 * The local runtime's own records, read from its administration routes: the IAM denials log
 * (`GET <lambda>/_local/denials`) and the email outbox (`GET <sns>/_local/outbox`). In AWS neither exists: a refused
 * call is a CloudTrail event (`errorCode` AccessDenied), an alarm email is in the subscriber's mailbox. The API reads
 * neither there, so in AWS both answer `available: false` with the reason, and the console says so.
 *
 * The routes are the local account administrator's: a role's keys are refused, unsigned calls (curl, this) are
 * served. They are read-only and exist only on loopback endpoints (config.ts, `localRuntimeOf`); no AWS API is
 * called, so nothing here reaches around a permission AWS would check.
 */

export const NOT_IN_AWS = {
  denials:
    'Not available in AWS: refused calls are recorded by CloudTrail (event history, errorCode AccessDenied), which the ops API does not read. The local runtime records its IAM denials.',
  inbox:
    "Not available in AWS: alarm notifications are emailed to the alarm topic's subscribers; only the local runtime keeps an outbox of what it would have sent.",
} as const;

/** How long the local runtime gets to answer: it is on this machine, so a slow answer means it is stuck. */
const TIMEOUT_MS = 5000;

const upstreamDenials = z.object({
  total: z.number().int(),
  denials: z.array(
    z.object({
      time: z.string(),
      principal: z.string(),
      role: z.string().optional(),
      action: z.string(),
      resource: z.string(),
      reason: z.string(),
      message: z.string(),
      policy: z.string().optional(),
      endpoint: z.string(),
    }),
  ),
});

const envelope = z.object({
  Type: z.string(),
  MessageId: z.string(),
  TopicArn: z.string(),
  Subject: z.string().optional(),
  Message: z.string(),
});

const upstreamOutbox = z.object({
  messages: z.array(
    z.object({
      file: z.string(),
      to: z.string(),
      deliveredAt: z.string(),
      // Kept as received (key order included) for the body; `envelope` reads the fields the inbox shows.
      notification: z.custom<Record<string, unknown>>((value) => envelope.safeParse(value).success, {
        error: 'notification is not an SNS notification envelope (Type, MessageId, TopicArn, Message)',
      }),
    }),
  ),
});

/** The fields of CloudWatch's alarm notification JSON the inbox shows (metric, metric-math and composite alarms). */
const alarmMessage = z.object({
  AlarmName: z.string(),
  AlarmDescription: z.string().nullable().optional(),
  NewStateValue: z.enum(ALARM_STATES),
  OldStateValue: z.enum(ALARM_STATES).optional(),
  NewStateReason: z.string(),
  StateChangeTime: z.string(),
});

/** The alarm a notification's `Message` announces, or null when it is some other message. */
export function alarmOf(message: string): AlarmNotification | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return null;
  }
  const alarm = alarmMessage.safeParse(parsed);
  if (!alarm.success) return null;
  const description = alarm.data.AlarmDescription ?? null;
  return {
    name: alarm.data.AlarmName,
    description,
    newState: alarm.data.NewStateValue,
    oldState: alarm.data.OldStateValue ?? null,
    reason: alarm.data.NewStateReason,
    stateChangeTime: alarm.data.StateChangeTime,
    ...(description === null ? { runbookUrl: null, consoleUrl: null } : alarmDescriptionLinks(description)),
  };
}

type Fetched<T> = { ok: true; value: T } | { ok: false; reason: string };

async function read<T>(what: string, url: string, schema: z.ZodType<T>, limit: number): Promise<Fetched<T>> {
  const target = `${url}?limit=${limit}`;
  let response: Response;
  try {
    response = await fetch(target, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (error: unknown) {
    return { ok: false, reason: `the local runtime's ${what} (GET ${target}) did not answer: ${messageOf(error)}` };
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, reason: `the local runtime's ${what} (GET ${target}) answered ${response.status}, not JSON` };
  }
  if (!response.ok) {
    // The runtime's own explanation, e.g. "IAM enforcement is off (--iam off): nothing is denied".
    const said = (body as { message?: unknown; Message?: unknown } | null) ?? {};
    const message = typeof said.message === 'string' ? said.message : String(said.Message ?? '');
    return { ok: false, reason: message || `the local runtime's ${what} answered ${response.status}` };
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success)
    return {
      ok: false,
      reason: `the local runtime's ${what} (GET ${target}) answered in an unexpected shape: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
    };
  return { ok: true, value: parsed.data };
}

function messageOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}

export class LocalRecords {
  constructor(private readonly local: OpsApiConfig['localRuntime']) {}

  async denials(limit: number): Promise<DenialsResponse> {
    if (!this.local) return { available: false, reason: NOT_IN_AWS.denials };
    if (!this.local.denialsUrl)
      return { available: false, reason: 'IAM enforcement is off (--iam off): the local runtime denies nothing' };
    const fetched = await read('denials log', this.local.denialsUrl, upstreamDenials, limit);
    if (!fetched.ok) return { available: false, reason: fetched.reason };
    return {
      available: true,
      total: fetched.value.total,
      denials: fetched.value.denials.map((d) => ({
        time: d.time,
        principal: d.principal,
        role: d.role ?? null,
        action: d.action,
        resource: d.resource,
        reason: d.reason,
        message: d.message,
        policy: d.policy ?? null,
        endpoint: d.endpoint,
      })),
    };
  }

  async inbox(limit: number): Promise<InboxResponse> {
    if (!this.local) return { available: false, reason: NOT_IN_AWS.inbox };
    if (!this.local.outboxUrl)
      return { available: false, reason: 'the local runtime runs no SNS endpoint, so nothing is mailed' };
    const fetched = await read('email outbox', this.local.outboxUrl, upstreamOutbox, limit);
    if (!fetched.ok) return { available: false, reason: fetched.reason };
    return {
      available: true,
      messages: fetched.value.messages.map((m): InboxMessage => {
        const fields = envelope.parse(m.notification);
        return {
          id: m.file,
          to: m.to,
          deliveredAt: m.deliveredAt,
          subject: fields.Subject ?? null,
          topicArn: fields.TopicArn,
          messageId: fields.MessageId,
          body: JSON.stringify(m.notification, null, 2),
          alarm: alarmOf(fields.Message),
        };
      }),
    };
  }
}
