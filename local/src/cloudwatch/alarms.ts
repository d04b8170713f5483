import type { Dimension, MetricStore } from './metric-store.ts';
import { type MetricDataQuery, runQueries } from './queries.ts';

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** A metric alarm as synthesized (`AWS::CloudWatch::Alarm`), with intrinsics already resolved to local names. */
export interface MetricAlarmSpec {
  readonly kind: 'metric';
  readonly name: string;
  readonly description?: string;
  readonly actionsEnabled: boolean;
  /** Single-metric alarms are turned into one MetricStat query, so one evaluation path serves both forms. */
  readonly queries: readonly MetricDataQuery[];
  /** Fields echoed by DescribeAlarms in the shape the template declared them. */
  readonly single?: {
    Namespace: string;
    MetricName: string;
    Statistic?: string;
    ExtendedStatistic?: string;
    Dimensions: Dimension[];
  };
  readonly period: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly threshold: number;
  readonly comparison: string;
  readonly treatMissingData: string;
}

export interface CompositeAlarmSpec {
  readonly kind: 'composite';
  readonly name: string;
  readonly description?: string;
  readonly actionsEnabled: boolean;
  readonly rule: string;
}

export type AlarmSpec = MetricAlarmSpec | CompositeAlarmSpec;

export interface AlarmStatus {
  state: AlarmState;
  reason: string;
  reasonData?: string;
  /** Last time the state or its reason changed (AWS's StateUpdatedTimestamp), epoch ms. */
  updatedAt: number;
  /** Last time the state value changed (StateTransitionedTimestamp), epoch ms. */
  transitionedAt: number;
}

export class AlarmDefinitionError extends Error {
  override readonly name = 'AlarmDefinitionError';
}

const COMPARISONS: Record<string, { test: (v: number, t: number) => boolean; words: string }> = {
  GreaterThanThreshold: { test: (v, t) => v > t, words: 'greater than' },
  GreaterThanOrEqualToThreshold: { test: (v, t) => v >= t, words: 'greater than or equal to' },
  LessThanThreshold: { test: (v, t) => v < t, words: 'less than' },
  LessThanOrEqualToThreshold: { test: (v, t) => v <= t, words: 'less than or equal to' },
};

export function alarmArn(name: string, region: string, account: string): string {
  return `arn:aws:cloudwatch:${region}:${account}:alarm:${name}`;
}

/** `1.0` → `1.0`, `12.5` → `12.5`: CloudWatch prints values with at least one decimal. */
function show(value: number): string {
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}

/** `24/11/26 22:40:00`, the dd/MM/yy HH:mm:ss form AWS uses in state reasons. */
function reasonDate(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(2, 4)} ${iso.slice(11, 19)}`;
}

/**
 * Evaluates a metric alarm the way CloudWatch documents it ("Evaluating an alarm"): the last `evaluationPeriods`
 * periods, breaching when `datapointsToAlarm` of them breach, missing data treated per `treatMissingData`.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarm-evaluation
 * Locally the current (partial) period is included so that a demo fault shows up within seconds, not minutes.
 */
export function evaluateMetricAlarm(
  spec: MetricAlarmSpec,
  store: MetricStore,
  now: number,
  current: AlarmState,
): { state: AlarmState; reason: string; reasonData: string } {
  const comparison = COMPARISONS[spec.comparison];
  if (!comparison)
    throw new AlarmDefinitionError(`alarm '${spec.name}' has unsupported ComparisonOperator '${spec.comparison}'`);
  const periodMs = spec.period * 1000;
  const end = Math.floor(now / periodMs) * periodMs + periodMs;
  const start = end - spec.evaluationPeriods * periodMs;
  const returned = runQueries(store, spec.queries, start, end).filter((r) => r.returned);
  if (returned.length !== 1)
    throw new AlarmDefinitionError(
      `alarm '${spec.name}' must return exactly one time series, returns ${returned.length}`,
    );
  const points = returned[0]?.points ?? new Map<number, number>();
  const evaluated: { timestamp: number; value?: number; breaching: boolean | undefined }[] = [];
  for (let t = end - periodMs; t >= start; t -= periodMs) {
    const value = points.get(t);
    if (value !== undefined) evaluated.push({ timestamp: t, value, breaching: comparison.test(value, spec.threshold) });
    else
      evaluated.push({
        timestamp: t,
        breaching:
          spec.treatMissingData === 'breaching' ? true : spec.treatMissingData === 'notBreaching' ? false : undefined,
      });
  }
  const present = evaluated.filter((p) => p.value !== undefined);
  const missing = evaluated.length - present.length;
  const breaches = evaluated.filter((p) => p.breaching === true).length;
  const reasonData = JSON.stringify({
    version: '1.0',
    queryDate: new Date(now).toISOString(),
    startDate: new Date(start).toISOString(),
    period: spec.period,
    recentDatapoints: present.map((p) => p.value),
    threshold: spec.threshold,
    evaluatedDatapoints: present.map((p) => ({ timestamp: new Date(p.timestamp).toISOString(), value: p.value })),
  });
  const window = present.map((p) => `${show(p.value as number)} (${reasonDate(p.timestamp)})`).join(', ');
  if (present.length === 0 && (spec.treatMissingData === 'missing' || spec.treatMissingData === 'ignore')) {
    const state = spec.treatMissingData === 'ignore' ? current : 'INSUFFICIENT_DATA';
    return {
      state,
      reason: `Insufficient Data: ${spec.evaluationPeriods} datapoint${spec.evaluationPeriods === 1 ? ' was' : 's were'} unknown.`,
      reasonData,
    };
  }
  const missingNote =
    missing > 0 && (spec.treatMissingData === 'breaching' || spec.treatMissingData === 'notBreaching')
      ? ` and ${missing} missing datapoint${missing === 1 ? ' was' : 's were'} treated as [${spec.treatMissingData === 'breaching' ? 'Breaching' : 'NonBreaching'}]`
      : '';
  if (breaches >= spec.datapointsToAlarm) {
    const breaching = evaluated.filter((p) => p.breaching === true && p.value !== undefined);
    const shown = breaching.map((p) => `${show(p.value as number)} (${reasonDate(p.timestamp)})`).join(', ');
    return {
      state: 'ALARM',
      reason: `Threshold Crossed: ${breaches} out of the last ${spec.evaluationPeriods} datapoints ${shown ? `[${shown}] ` : ''}${breaches === 1 ? 'was' : 'were'} ${comparison.words} the threshold (${show(spec.threshold)})${missingNote} (minimum ${spec.datapointsToAlarm} datapoint${spec.datapointsToAlarm === 1 ? '' : 's'} for OK -> ALARM transition).`,
      reasonData,
    };
  }
  if (present.length === 0) {
    return {
      state: 'OK',
      reason: `Threshold Crossed: no datapoints were received for ${spec.evaluationPeriods} period${spec.evaluationPeriods === 1 ? '' : 's'}${missingNote}.`,
      reasonData,
    };
  }
  return {
    state: 'OK',
    reason: `Threshold Crossed: ${present.length} datapoint${present.length === 1 ? '' : 's'} [${window}] ${present.length === 1 ? 'was' : 'were'} not ${comparison.words} the threshold (${show(spec.threshold)})${missingNote} (minimum ${spec.datapointsToAlarm} datapoint${spec.datapointsToAlarm === 1 ? '' : 's'} for ALARM -> OK transition).`,
    reasonData,
  };
}

/**
 * Evaluates a composite alarm rule: `ALARM(x)`, `OK(x)`, `INSUFFICIENT_DATA(x)`, `TRUE`, `FALSE`, `AND`, `OR`, `NOT`
 * and parentheses, where x is an alarm name or ARN, quoted or not.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html
 */
export function evaluateCompositeRule(
  rule: string,
  stateOf: (name: string) => AlarmState | undefined,
): { value: boolean; causes: string[] } {
  const tokens = rule.match(/\(|\)|"[^"]*"|[^\s()"]+/g) ?? [];
  let position = 0;
  const causes: string[] = [];
  const expect = (token: string) => {
    if (tokens[position] !== token) throw new AlarmDefinitionError(`composite rule '${rule}': expected '${token}'`);
    position++;
  };
  const unary = (): boolean => {
    const token = tokens[position++];
    if (token === undefined) throw new AlarmDefinitionError(`composite rule '${rule}' ends unexpectedly`);
    const upper = token.toUpperCase();
    if (upper === 'NOT') return !unary();
    if (upper === 'TRUE') return true;
    if (upper === 'FALSE') return false;
    if (token === '(') {
      const inner = or();
      expect(')');
      return inner;
    }
    if (upper === 'ALARM' || upper === 'OK' || upper === 'INSUFFICIENT_DATA') {
      expect('(');
      const raw = (tokens[position++] ?? '').replace(/^"|"$/g, '');
      expect(')');
      const name = raw.includes(':alarm:') ? raw.slice(raw.indexOf(':alarm:') + 7) : raw;
      const state = stateOf(name);
      if (state === undefined)
        throw new AlarmDefinitionError(`composite rule '${rule}' refers to unknown alarm '${name}'`);
      const holds = state === upper;
      if (holds) causes.push(name);
      return holds;
    }
    throw new AlarmDefinitionError(`composite rule '${rule}': unexpected '${token}'`);
  };
  const and = (): boolean => {
    let value = unary();
    while (tokens[position]?.toUpperCase() === 'AND') {
      position++;
      value = unary() && value;
    }
    return value;
  };
  const or = (): boolean => {
    let value = and();
    while (tokens[position]?.toUpperCase() === 'OR') {
      position++;
      value = and() || value;
    }
    return value;
  };
  const value = or();
  if (position !== tokens.length)
    throw new AlarmDefinitionError(`composite rule '${rule}': unexpected '${tokens[position]}'`);
  return { value, causes };
}

/** Holds every alarm's state and re-evaluates them (metric alarms first, then composites that read them). */
export class AlarmBoard {
  readonly status = new Map<string, AlarmStatus>();

  constructor(
    readonly specs: readonly AlarmSpec[],
    private readonly store: MetricStore,
    created = Date.now(),
  ) {
    for (const spec of specs)
      this.status.set(spec.name, {
        state: 'INSUFFICIENT_DATA',
        reason: 'Unchecked: Initial alarm creation',
        updatedAt: created,
        transitionedAt: created,
      });
  }

  evaluate(now = Date.now()): void {
    for (const spec of this.specs) {
      if (spec.kind !== 'metric') continue;
      const status = this.statusOf(spec.name);
      const next = evaluateMetricAlarm(spec, this.store, now, status.state);
      this.apply(status, next.state, next.reason, now, next.reasonData);
    }
    for (const spec of this.specs) {
      if (spec.kind !== 'composite') continue;
      const status = this.statusOf(spec.name);
      const { value, causes } = evaluateCompositeRule(spec.rule, (name) => this.status.get(name)?.state);
      const reason = value
        ? `${causes.join(', ')} ${causes.length === 1 ? 'is' : 'are'} in the state named by the alarm rule`
        : 'The alarm rule does not hold';
      this.apply(status, value ? 'ALARM' : 'OK', reason, now);
    }
  }

  private statusOf(name: string): AlarmStatus {
    const status = this.status.get(name);
    if (!status) throw new AlarmDefinitionError(`no alarm named '${name}'`);
    return status;
  }

  private apply(status: AlarmStatus, state: AlarmState, reason: string, now: number, reasonData?: string): void {
    // AWS updates the reason only on a state change; a steady alarm keeps the reason of its last transition.
    if (status.state === state) return;
    status.state = state;
    status.reason = reason;
    if (reasonData === undefined) delete status.reasonData;
    else status.reasonData = reasonData;
    status.updatedAt = now;
    status.transitionedAt = now;
  }
}
