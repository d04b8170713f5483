import type { AlarmState } from '@orderflow/pipeline/facts';
import { AlarmHistory, type AlarmType } from './history.ts';
import type { Dimension, MetricStore } from './metric-store.ts';
import { type MetricDataQuery, runQueries } from './queries.ts';

export { ALARM_STATES, type AlarmState } from '@orderflow/pipeline/facts';

/** The ARNs an alarm notifies when it enters each state (AlarmActions, OKActions, InsufficientDataActions). */
export interface AlarmActionLists {
  readonly ALARM: readonly string[];
  readonly OK: readonly string[];
  readonly INSUFFICIENT_DATA: readonly string[];
}

export const NO_ACTIONS: AlarmActionLists = Object.freeze({ ALARM: [], OK: [], INSUFFICIENT_DATA: [] });

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
  /** The template's `Unit`, if any (echoed in notifications' Trigger). */
  readonly unit?: string;
  /** Whether the template set DatapointsToAlarm (notifications list it only then). */
  readonly datapointsToAlarmSet?: boolean;
  readonly actions?: AlarmActionLists;
}

export interface CompositeAlarmSpec {
  readonly kind: 'composite';
  readonly name: string;
  readonly description?: string;
  readonly actionsEnabled: boolean;
  readonly rule: string;
  readonly actions?: AlarmActionLists;
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
  /** ActionsEnabled as it is now (the template's value until Enable/DisableAlarmActions). */
  actionsEnabled: boolean;
  /** AlarmConfigurationUpdatedTimestamp, epoch ms. */
  configurationUpdatedAt: number;
}

/** A change of an alarm's state value, as alarm actions and the history see it. */
export interface AlarmTransition {
  readonly spec: AlarmSpec;
  readonly oldState: AlarmState;
  readonly oldReason: string;
  readonly newState: AlarmState;
  readonly reason: string;
  readonly reasonData?: string;
  /** Epoch ms. */
  readonly at: number;
  /** Composite alarms: the children whose state made the rule true (AWS's TriggeringChildren). */
  readonly triggeringChildren?: readonly { readonly name: string; readonly state: AlarmState; readonly at: number }[];
}

export class AlarmNotFoundError extends Error {
  override readonly name = 'AlarmNotFoundError';
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

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/** `Wednesday 10 November, 2021 02:45:55 UTC`, the form AWS uses in composite alarms' state reasons. */
export function longDate(ms: number): string {
  const date = new Date(ms);
  const day = String(date.getUTCDate()).padStart(2, '0');
  return `${WEEKDAYS[date.getUTCDay()]} ${day} ${MONTHS[date.getUTCMonth()]}, ${date.getUTCFullYear()} ${date.toISOString().slice(11, 19)} UTC`;
}

/** The alarm names (or ARNs' names) a composite rule reads, each once, in rule order. */
export function ruleAlarmNames(rule: string): string[] {
  const names: string[] = [];
  evaluateCompositeRule(rule, (name) => {
    if (!names.includes(name)) names.push(name);
    return 'OK';
  });
  return names;
}

export function alarmTypeOf(spec: AlarmSpec): AlarmType {
  return spec.kind === 'metric' ? 'MetricAlarm' : 'CompositeAlarm';
}

export interface AlarmBoardOptions {
  /** For alarm ARNs in composite reasons; default us-east-1 and 000000000000, the local runtime's. */
  readonly region?: string;
  readonly account?: string;
}

/**
 * Holds every alarm's state and re-evaluates them (metric alarms first, then composites that read them). Each change
 * of a state value is recorded in `history` and handed to the `onTransition` listeners (alarm actions).
 */
export class AlarmBoard {
  readonly status = new Map<string, AlarmStatus>();
  readonly history = new AlarmHistory();
  private readonly listeners = new Set<(transition: AlarmTransition) => void>();
  /**
   * Alarms whose state SetAlarmState set. A metric alarm keeps it until the next scheduled evaluation; a composite
   * until one of its children changes state (the children's states when it was set are kept to tell). SetAlarmState,
   * CloudWatch API reference.
   */
  private readonly held = new Map<string, ReadonlyMap<string, AlarmState> | undefined>();
  private readonly region: string;
  private readonly account: string;

  constructor(
    readonly specs: readonly AlarmSpec[],
    private readonly store: MetricStore,
    created = Date.now(),
    options: AlarmBoardOptions = {},
  ) {
    this.region = options.region ?? 'us-east-1';
    this.account = options.account ?? '000000000000';
    for (const spec of specs) {
      const status: AlarmStatus = {
        state: 'INSUFFICIENT_DATA',
        reason: 'Unchecked: Initial alarm creation',
        updatedAt: created,
        transitionedAt: created,
        actionsEnabled: spec.actionsEnabled,
        configurationUpdatedAt: created,
      };
      this.status.set(spec.name, status);
      this.history.record({
        alarmName: spec.name,
        alarmType: alarmTypeOf(spec),
        timestamp: created,
        historyItemType: 'ConfigurationUpdate',
        summary: `Alarm "${spec.name}" created`,
        data: JSON.stringify({ version: '1.0', type: 'Create', createdAlarm: this.configuration(spec, status) }),
      });
    }
  }

  /** The alarm named so, or undefined. */
  spec(name: string): AlarmSpec | undefined {
    return this.specs.find((spec) => spec.name === name);
  }

  arnOf(name: string): string {
    return alarmArn(name, this.region, this.account);
  }

  /** Calls `listener` with every change of an alarm's state value; returns the unsubscribe function. */
  onTransition(listener: (transition: AlarmTransition) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Re-evaluates every alarm. `scheduled: false` (a DescribeAlarms reading fresh state) leaves a state set by
   * SetAlarmState in place; the scheduled evaluation (default) is the one that replaces it, as in CloudWatch.
   */
  evaluate(now = Date.now(), options: { scheduled?: boolean } = {}): void {
    const scheduled = options.scheduled ?? true;
    for (const spec of this.specs) {
      if (spec.kind !== 'metric') continue;
      if (this.held.has(spec.name)) {
        if (!scheduled) continue;
        this.held.delete(spec.name);
      }
      const status = this.statusOf(spec.name);
      const next = evaluateMetricAlarm(spec, this.store, now, status.state);
      this.apply(spec, status, next.state, next.reason, now, next.reasonData);
    }
    for (const spec of this.specs) {
      if (spec.kind !== 'composite') continue;
      if (this.held.has(spec.name)) {
        const children = this.held.get(spec.name);
        if (children && [...children].every(([name, state]) => this.status.get(name)?.state === state)) continue;
        this.held.delete(spec.name);
      }
      const status = this.statusOf(spec.name);
      const { value, causes } = evaluateCompositeRule(spec.rule, (name) => this.status.get(name)?.state);
      const state: AlarmState = value ? 'ALARM' : 'OK';
      if (state === status.state) continue;
      // AWS names the child whose transition changed the rule: "<child ARN> transitioned to ALARM at <date>".
      const latest = ruleAlarmNames(spec.rule)
        .map((name) => ({ name, status: this.statusOf(name) }))
        .sort((a, b) => b.status.transitionedAt - a.status.transitionedAt)[0];
      const reason = latest
        ? `${this.arnOf(latest.name)} transitioned to ${latest.status.state} at ${longDate(latest.status.transitionedAt)}`
        : `The alarm rule ${value ? 'holds' : 'does not hold'}`;
      this.apply(spec, status, state, reason, now, undefined, {
        triggeringChildren: value
          ? causes.map((name) => {
              const child = this.statusOf(name);
              return { name, state: child.state, at: child.transitionedAt };
            })
          : [],
      });
    }
  }

  /**
   * SetAlarmState: sets the state now and runs the actions of a state that differs from the previous one. A metric
   * alarm keeps it until the next scheduled evaluation, a composite until one of its children changes state.
   */
  setState(name: string, state: AlarmState, reason: string, reasonData?: string, now = Date.now()): void {
    const spec = this.spec(name);
    if (!spec) throw new AlarmNotFoundError(`Alarm ${name} not found`);
    const status = this.statusOf(name);
    this.held.set(
      name,
      spec.kind === 'composite'
        ? new Map(ruleAlarmNames(spec.rule).map((child) => [child, this.statusOf(child).state]))
        : undefined,
    );
    if (status.state === state) {
      status.reason = reason;
      if (reasonData === undefined) delete status.reasonData;
      else status.reasonData = reasonData;
      status.updatedAt = now;
      return;
    }
    this.apply(spec, status, state, reason, now, reasonData, { triggeringChildren: [] });
  }

  /** EnableAlarmActions / DisableAlarmActions; names of no alarm are ignored, as CloudWatch does. */
  setActionsEnabled(names: readonly string[], enabled: boolean, now = Date.now()): void {
    for (const name of names) {
      const spec = this.spec(name);
      const status = this.status.get(name);
      if (!spec || !status || status.actionsEnabled === enabled) continue;
      status.actionsEnabled = enabled;
      status.configurationUpdatedAt = now;
      this.history.record({
        alarmName: name,
        alarmType: alarmTypeOf(spec),
        timestamp: now,
        historyItemType: 'ConfigurationUpdate',
        summary: `Alarm "${name}" updated`,
        data: JSON.stringify({
          version: '1.0',
          type: 'Update',
          updatedAlarm: this.configuration(spec, status),
          originalUpdatedFields: { actionsEnabled: !enabled },
        }),
      });
    }
  }

  private statusOf(name: string): AlarmStatus {
    const status = this.status.get(name);
    if (!status) throw new AlarmDefinitionError(`no alarm named '${name}'`);
    return status;
  }

  /** The alarm's configuration as the history's ConfigurationUpdate items carry it. */
  private configuration(spec: AlarmSpec, status: AlarmStatus): Record<string, unknown> {
    const actions = spec.actions ?? NO_ACTIONS;
    const common = {
      alarmName: spec.name,
      alarmArn: this.arnOf(spec.name),
      ...(spec.description ? { alarmDescription: spec.description } : {}),
      actionsEnabled: status.actionsEnabled,
      okactions: actions.OK,
      alarmActions: actions.ALARM,
      insufficientDataActions: actions.INSUFFICIENT_DATA,
    };
    if (spec.kind === 'composite') return { type: 'CompositeAlarm', ...common, alarmRule: spec.rule };
    return {
      type: 'MetricAlarm',
      ...common,
      ...(spec.single
        ? {
            namespace: spec.single.Namespace,
            metricName: spec.single.MetricName,
            dimensions: spec.single.Dimensions.map((d) => ({ name: d.Name, value: d.Value })),
            ...(spec.single.ExtendedStatistic
              ? { extendedStatistic: spec.single.ExtendedStatistic }
              : { statistic: spec.single.Statistic }),
          }
        : { metrics: spec.queries }),
      period: spec.period,
      evaluationPeriods: spec.evaluationPeriods,
      datapointsToAlarm: spec.datapointsToAlarm,
      threshold: spec.threshold,
      comparisonOperator: spec.comparison,
      treatMissingData: spec.treatMissingData,
    };
  }

  private apply(
    spec: AlarmSpec,
    status: AlarmStatus,
    state: AlarmState,
    reason: string,
    now: number,
    reasonData?: string,
    extra: Pick<AlarmTransition, 'triggeringChildren'> = {},
  ): void {
    // AWS updates the reason only on a state change; a steady alarm keeps the reason of its last transition.
    if (status.state === state) return;
    const oldState = status.state;
    const oldReason = status.reason;
    status.state = state;
    status.reason = reason;
    if (reasonData === undefined) delete status.reasonData;
    else status.reasonData = reasonData;
    status.updatedAt = now;
    status.transitionedAt = now;
    this.history.record({
      alarmName: spec.name,
      alarmType: alarmTypeOf(spec),
      timestamp: now,
      historyItemType: 'StateUpdate',
      summary: `Alarm updated from ${oldState} to ${state}`,
      data: JSON.stringify({
        version: '1.0',
        oldState: { stateValue: oldState, stateReason: oldReason },
        newState: {
          stateValue: state,
          stateReason: reason,
          ...(reasonData === undefined ? {} : { stateReasonData: parseOrKeep(reasonData) }),
        },
      }),
    });
    const transition: AlarmTransition = {
      spec,
      oldState,
      oldReason,
      newState: state,
      reason,
      ...(reasonData === undefined ? {} : { reasonData }),
      at: now,
      ...extra,
    };
    const failures: unknown[] = [];
    for (const listener of this.listeners) {
      try {
        listener(transition);
      } catch (error: unknown) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw failures[0];
  }
}

function parseOrKeep(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
