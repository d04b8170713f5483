import { isPipeKey, type PipeKey } from '@orderflow/pipeline/facts';
import { useCallback, useMemo } from 'react';
import { useSearchParams } from 'react-router';

/**
 * A view's state lives in the URL query, with the parameter names pipeline's `consoleDeepLink` writes (`pipe`,
 * `window` in seconds, `from`, `to`), so an alarm's deep link opens exactly the view it describes and any view can be
 * shared by copying its address.
 */
export const WINDOW_OPTIONS = [
  { seconds: 900, label: 'Last 15 minutes' },
  { seconds: 3600, label: 'Last hour' },
  { seconds: 3 * 3600, label: 'Last 3 hours' },
  { seconds: 24 * 3600, label: 'Last 24 hours' },
  { seconds: 7 * 24 * 3600, label: 'Last 7 days' },
] as const;
export const DEFAULT_WINDOW_SECONDS = 3600;

/** A window relative to now, or an absolute range; resolved to instants only when a request is made. */
export type TimeRangeSpec = { kind: 'window'; seconds: number } | { kind: 'absolute'; from: string; to: string };

export function timeRangeSpecFrom(
  params: URLSearchParams,
  defaultWindowSeconds = DEFAULT_WINDOW_SECONDS,
): TimeRangeSpec {
  const from = params.get('from');
  if (from && !Number.isNaN(Date.parse(from))) {
    const toParam = params.get('to');
    const to = toParam && !Number.isNaN(Date.parse(toParam)) ? toParam : new Date().toISOString();
    return { kind: 'absolute', from: new Date(from).toISOString(), to: new Date(to).toISOString() };
  }
  const window = Number(params.get('window'));
  return { kind: 'window', seconds: Number.isInteger(window) && window > 0 ? window : defaultWindowSeconds };
}

export function resolveTimeRange(spec: TimeRangeSpec, now = Date.now()): { from: Date; to: Date } {
  if (spec.kind === 'absolute') return { from: new Date(spec.from), to: new Date(spec.to) };
  return { from: new Date(now - spec.seconds * 1000), to: new Date(now) };
}

/** A period giving about 60 points over the range, in whole minutes as CloudWatch periods are. */
export function periodFor(range: { from: Date; to: Date }): number {
  const seconds = Math.max(60, (range.to.getTime() - range.from.getTime()) / 1000 / 60);
  return Math.ceil(seconds / 60) * 60;
}

export function pipeFrom(params: URLSearchParams): PipeKey | undefined {
  const pipe = params.get('pipe');
  return isPipeKey(pipe) ? pipe : undefined;
}

export type ParamPatch = Record<string, string | number | null | undefined>;

/** New query with the patch applied; empty values remove their parameter so URLs stay short. */
export function patchParams(params: URLSearchParams, patch: ParamPatch): URLSearchParams {
  const next = new URLSearchParams(params);
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined || value === null || value === '') next.delete(key);
    else next.set(key, String(value));
  }
  return next;
}

export function useViewState(defaultWindowSeconds = DEFAULT_WINDOW_SECONDS) {
  const [params, setParams] = useSearchParams();
  const update = useCallback(
    (patch: ParamPatch) => setParams((current) => patchParams(current, patch), { replace: true }),
    [setParams],
  );
  const query = params.toString();
  // Memoised on the query text so objects keep their identity between renders (stable query keys).
  const derived = useMemo(() => {
    const current = new URLSearchParams(query);
    return { pipe: pipeFrom(current), timeRange: timeRangeSpecFrom(current, defaultWindowSeconds) };
  }, [query, defaultWindowSeconds]);
  return { params, update, ...derived };
}
