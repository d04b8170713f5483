import { type CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  alarmWindowSeconds,
  COMPOSITE_ALARM,
  consoleDeepLink,
  DEFAULT_ALARM_PREFIX,
  PIPE_ALARMS,
  parseAlarmName,
  runbookPath,
} from '@orderflow/pipeline/facts';
import type { Alarm } from '../schemas/index.ts';

/** The stack's alarms (named by pipeline's `alarmName`) with their runbook and a console link filtered to the pipe. */
export class AlarmReader {
  constructor(
    private readonly cloudwatch: CloudWatchClient,
    private readonly links: { readonly consoleUrl: string; readonly runbookBaseUrl: string },
  ) {}

  async list(): Promise<Alarm[]> {
    const alarms: Alarm[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.cloudwatch.send(
        new DescribeAlarmsCommand({
          AlarmNamePrefix: DEFAULT_ALARM_PREFIX,
          AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
          NextToken: nextToken,
        }),
      );
      for (const alarm of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
        alarms.push(this.describe(alarm));
      }
      nextToken = page.NextToken;
    } while (nextToken);
    const rank = { ALARM: 0, INSUFFICIENT_DATA: 1, OK: 2 } as const;
    return alarms.sort((a, b) => rank[a.state] - rank[b.state] || a.name.localeCompare(b.name));
  }

  private describe(alarm: {
    AlarmName?: string;
    StateValue?: string;
    StateReason?: string;
    StateUpdatedTimestamp?: Date;
  }): Alarm {
    const name = alarm.AlarmName ?? '';
    const parsed = parseAlarmName(name);
    const definition = parsed
      ? parsed.slug === COMPOSITE_ALARM.slug
        ? COMPOSITE_ALARM
        : PIPE_ALARMS.find((candidate) => candidate.slug === parsed.slug)
      : undefined;
    const state = alarm.StateValue === 'ALARM' || alarm.StateValue === 'OK' ? alarm.StateValue : 'INSUFFICIENT_DATA';
    return {
      name,
      pipe: parsed?.pipe ?? null,
      slug: parsed?.slug ?? null,
      title: definition?.title ?? name,
      state,
      reason: alarm.StateReason ?? '',
      since: alarm.StateUpdatedTimestamp ? new Date(alarm.StateUpdatedTimestamp).toISOString() : null,
      runbookUrl: parsed ? `${this.links.runbookBaseUrl}/${runbookPath(parsed.slug)}` : null,
      consoleUrl: definition
        ? consoleDeepLink(this.links.consoleUrl, definition.consoleView, {
            ...(parsed?.pipe ? { pipe: parsed.pipe } : {}),
            windowSeconds: alarmWindowSeconds(definition),
          })
        : null,
    };
  }
}
