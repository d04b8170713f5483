import type { LocalRuntime, OutboxMessage } from '@orderflow/local';
import { ALARM_STATES, type AlarmState } from '@orderflow/pipeline/facts';
import { expect } from '@playwright/test';

/** The alarm JSON CloudWatch publishes (a metric alarm's), as far as the on-call scenario reads it. */
export interface AlarmMessage {
  readonly AlarmName: string;
  readonly AlarmDescription: string | null;
  readonly AWSAccountId: string;
  readonly NewStateValue: AlarmState;
  readonly NewStateReason: string;
  readonly StateChangeTime: string;
  readonly Region: string;
  readonly AlarmArn: string;
  readonly OldStateValue: AlarmState;
  readonly Trigger: Record<string, unknown>;
}

/** One alarm notification as the on-call address received it: the email-json envelope and the alarm in it. */
export interface AlarmMail {
  readonly delivered: OutboxMessage;
  readonly alarm: AlarmMessage;
}

/**
 * The on-call mailbox: what the template's email subscription to the alarm topic received, read from the runtime's
 * outbox (`<state dir>/outbox/*.json`, one file per delivered message, as an `email-json` subscriber receives it).
 */
export class OnCallMailbox {
  private constructor(
    private readonly runtime: LocalRuntime,
    readonly address: string,
  ) {}

  /** The address the template subscribes (e2e/global-setup.ts makes sure there is one). */
  static of(runtime: LocalRuntime): OnCallMailbox {
    const addresses = runtime.sns
      .listSubscriptions({})
      .Subscriptions.filter((s) => s.Protocol === 'email' || s.Protocol === 'email-json')
      .map((s) => s.Endpoint);
    const [address] = addresses;
    if (!address)
      throw new Error(
        'the template subscribes no email address to a topic: synthesize it as npm start does (-c alarmEmail=...)',
      );
    return new OnCallMailbox(runtime, address);
  }

  /** `ALARM: "<name>" in US East (N. Virginia)`: the subject CloudWatch gives a notification. */
  static subject(state: AlarmState, alarmName: string): string {
    return `${state}: "${alarmName}" in US East (N. Virginia)`;
  }

  /** Every notification of the alarm moving to `state` delivered after `after` (ISO 8601), oldest first. */
  notifications(alarmName: string, state: AlarmState, after: string): AlarmMail[] {
    return this.runtime.outbox
      .list({ to: this.address, limit: 1000 })
      .filter((m) => m.deliveredAt > after && m.notification.Subject === OnCallMailbox.subject(state, alarmName))
      .reverse()
      .map((delivered) => ({ delivered, alarm: parseAlarm(delivered.notification.Message) }));
  }

  /** Waits for the first notification of the alarm moving to `state` after `after`. */
  async next(alarmName: string, state: AlarmState, after: string, timeout = 90_000): Promise<AlarmMail> {
    let found: AlarmMail | undefined;
    await expect
      .poll(
        () => {
          [found] = this.notifications(alarmName, state, after);
          return found !== undefined;
        },
        { message: `a ${state} notification of ${alarmName} in ${this.address}'s outbox`, timeout },
      )
      .toBe(true);
    return found as AlarmMail;
  }
}

function parseAlarm(message: string): AlarmMessage {
  const alarm = JSON.parse(message) as AlarmMessage;
  if (typeof alarm.AlarmName !== 'string' || !ALARM_STATES.includes(alarm.NewStateValue))
    throw new Error(`the notification's Message is not a CloudWatch alarm notification: ${message.slice(0, 200)}`);
  return alarm;
}
