import type { Alarm } from '@orderflow/ops-api/schemas';
import {
  alarmWindowSeconds,
  COMPOSITE_ALARM,
  consoleDeepLink,
  PIPE_ALARMS,
  parseAlarmName,
} from '@orderflow/pipeline/facts';

/**
 * The in-console link of an alarm, built from pipeline's alarm definitions exactly as the alarm description's deep
 * link is (same view, pipe and window) but relative, so it navigates without a reload whatever host serves the
 * console. An alarm this project did not define falls back to the API's link, or to none.
 */
export function alarmViewLink(alarm: Pick<Alarm, 'name' | 'consoleUrl'>): string | undefined {
  const parsed = parseAlarmName(alarm.name);
  if (!parsed) {
    if (!alarm.consoleUrl) return undefined;
    const url = new URL(alarm.consoleUrl, 'http://console.invalid');
    return `${url.pathname}${url.search}`;
  }
  const definition = PIPE_ALARMS.find((candidate) => candidate.slug === parsed.slug) ?? COMPOSITE_ALARM;
  return consoleDeepLink('', definition.consoleView, {
    pipe: parsed.pipe,
    windowSeconds: alarmWindowSeconds(definition),
  });
}
