import { describe, expect, it } from 'vitest';
import {
  alarmDescription,
  alarmDescriptionLinks,
  alarmWindowSeconds,
  COMPOSITE_ALARM,
  consoleDeepLink,
  PIPE_ALARMS,
  runbookPath,
} from '../../src/facts.ts';

describe('alarmDescriptionLinks', () => {
  it('reads back the runbook and console links of every alarm description', () => {
    for (const alarm of [...PIPE_ALARMS, COMPOSITE_ALARM]) {
      const runbookUrl = `https://d111.cloudfront.net/${runbookPath(alarm.slug)}`;
      const consoleUrl = consoleDeepLink('http://127.0.0.1:4321', alarm.consoleView, {
        pipe: 'premium',
        windowSeconds: alarmWindowSeconds(alarm),
      });
      expect(alarmDescriptionLinks(alarmDescription(alarm, { runbookUrl, consoleUrl }, 'premium'))).toEqual({
        runbookUrl,
        consoleUrl,
      });
    }
  });

  it('answers null for a link that is not an http(s) URL, or missing', () => {
    const [alarm] = PIPE_ALARMS;
    if (!alarm) throw new Error('no pipe alarm defined');
    const text = alarmDescription(alarm, {
      runbookUrl: runbookPath(alarm.slug),
      consoleUrl: '(ops toolkit not deployed in this stack)',
    });
    expect(alarmDescriptionLinks(text)).toEqual({ runbookUrl: null, consoleUrl: null });
    expect(alarmDescriptionLinks('written by hand')).toEqual({ runbookUrl: null, consoleUrl: null });
  });
});
