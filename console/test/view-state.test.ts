import { METRICS_MAX_DATAPOINTS, metricsQuerySchema } from '@orderflow/ops-api/schemas';
import { alarmName, COMPOSITE_ALARM, PIPE_ALARMS } from '@orderflow/pipeline/facts';
import { describe, expect, it } from 'vitest';
import { alarmViewLink } from '../src/features/alarms/alarm-links.ts';
import {
  patchParams,
  periodFor,
  pipeFrom,
  resolveTimeRange,
  timeRangeSpecFrom,
  WINDOW_OPTIONS,
} from '../src/lib/view-state.ts';

describe('view state in the URL', () => {
  it('reads a relative window, falling back to the default for missing or bad values', () => {
    expect(timeRangeSpecFrom(new URLSearchParams('window=900'))).toEqual({ kind: 'window', seconds: 900 });
    expect(timeRangeSpecFrom(new URLSearchParams('window=-5'))).toEqual({ kind: 'window', seconds: 3600 });
    expect(timeRangeSpecFrom(new URLSearchParams('window=abc'), 86400)).toEqual({ kind: 'window', seconds: 86400 });
  });

  it('prefers an absolute from/to over a window, as consoleDeepLink writes them', () => {
    const spec = timeRangeSpecFrom(new URLSearchParams('from=2026-01-15T10:00:00Z&to=2026-01-15T11:00:00Z&window=60'));
    expect(spec).toEqual({ kind: 'absolute', from: '2026-01-15T10:00:00.000Z', to: '2026-01-15T11:00:00.000Z' });
    expect(resolveTimeRange(spec).to.toISOString()).toBe('2026-01-15T11:00:00.000Z');
  });

  it('resolves a window against now and picks a whole-minute period of about 60 points', () => {
    const range = resolveTimeRange({ kind: 'window', seconds: 3600 }, Date.parse('2026-01-15T11:00:00Z'));
    expect(range.from.toISOString()).toBe('2026-01-15T10:00:00.000Z');
    expect(periodFor(range)).toBe(60);
    expect(periodFor(resolveTimeRange({ kind: 'window', seconds: 86400 }))).toBe(1440);
  });

  it('asks for metrics the ops API accepts over every window offered and absolute ranges up to 60 days', () => {
    const now = Date.parse('2026-11-24T12:00:00Z');
    const ranges = [
      ...WINDOW_OPTIONS.map((option) => resolveTimeRange({ kind: 'window', seconds: option.seconds }, now)),
      ...[1, 7, 31, 60].map((days) => ({ from: new Date(now - days * 86_400_000), to: new Date(now) })),
    ];
    for (const range of ranges) {
      const query = {
        pipe: 'standard',
        from: range.from.toISOString(),
        to: range.to.toISOString(),
        period: String(periodFor(range)),
      };
      expect(metricsQuerySchema.safeParse(query).error, JSON.stringify(query)).toBeUndefined();
      expect((range.to.getTime() - range.from.getTime()) / 1000 / periodFor(range)).toBeLessThanOrEqual(
        METRICS_MAX_DATAPOINTS,
      );
    }
  });

  it('accepts only known pipes', () => {
    expect(pipeFrom(new URLSearchParams('pipe=premium'))).toBe('premium');
    expect(pipeFrom(new URLSearchParams('pipe=bogus'))).toBeUndefined();
  });

  it('patches parameters and drops empty ones', () => {
    const next = patchParams(new URLSearchParams('pipe=standard&email=a'), { email: '', orderId: 'o-1', window: 60 });
    expect(next.toString()).toBe('pipe=standard&orderId=o-1&window=60');
  });

  it("links every alarm to the view its definition names, with the alarm's pipe and window", () => {
    for (const alarm of PIPE_ALARMS) {
      const link = new URL(
        alarmViewLink({ name: alarmName(alarm.slug, 'premium'), consoleUrl: null }) ?? '',
        'http://x',
      );
      expect(link.pathname).toBe(alarm.consoleView === 'dlqs' ? '/dlqs' : '/metrics');
      expect(pipeFrom(link.searchParams)).toBe('premium');
      expect(timeRangeSpecFrom(link.searchParams)).toEqual({
        kind: 'window',
        seconds: Math.max(3600, alarm.periodSeconds * alarm.evaluationPeriods * 4),
      });
    }
    expect(alarmViewLink({ name: alarmName(COMPOSITE_ALARM.slug), consoleUrl: null })).toBe('/dlqs?window=3600');
    // An alarm this project did not define keeps the API's link, made relative; without one there is no link.
    expect(alarmViewLink({ name: 'other-alarm', consoleUrl: 'https://c.example/alarms?pipe=standard' })).toBe(
      '/alarms?pipe=standard',
    );
    expect(alarmViewLink({ name: 'other-alarm', consoleUrl: null })).toBeUndefined();
  });
});
