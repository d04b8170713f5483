import { requirePipeFilter } from '@orderflow/pipeline/engine';
import {
  DEFAULT_ALARM_PREFIX,
  DEFAULT_JOURNAL_TTL_DAYS,
  PIPE_KEYS,
  PIPES,
  type PipeDefinition,
  type PipeKey,
  validateSourceSettings,
} from '@orderflow/pipeline/facts';
import type { RemovalPolicy, StackProps } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';

export interface OrderflowStackProps extends StackProps {
  /**
   * The two pipes (rule, source settings, logical ids). Overridable so that tests and forks can tune a pipe; every
   * override is validated at synth.
   * @default PIPES from `@orderflow/pipeline`
   */
  readonly pipes?: Readonly<Record<PipeKey, PipeDefinition>>;
  /**
   * Removal policy of the stateful resources (tables, DLQs, console bucket).
   * @default RemovalPolicy.RETAIN
   */
  readonly dataRemovalPolicy?: RemovalPolicy;
  /**
   * DynamoDB deletion protection on the Orders table and the operational tables.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * Email address subscribed to the alarm topic (alarm and OK notifications).
   * @default - no subscription; subscribe to the `AlarmTopic` output yourself
   */
  readonly alarmEmail?: string;
  /**
   * Days a failure journal entry is kept (DynamoDB TTL).
   * @default DEFAULT_JOURNAL_TTL_DAYS (14)
   */
  readonly journalTtlDays?: number;
  /**
   * Retention of every log group of the stack.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * Prefix of alarm names and pipe names (`orderflow-standard`, `orderflow-standard-dlq-has-messages`).
   * @default DEFAULT_ALARM_PREFIX ('orderflow')
   */
  readonly resourcePrefix?: string;
  /**
   * Deploy the ops toolkit: the ops API behind API Gateway with Cognito, and the console on S3 + CloudFront. It needs
   * the built console (`npm run build -w console`); turning it off is explicit, never a silent skip.
   * @default true
   */
  readonly opsToolkit?: boolean;
  /**
   * Directory of the built console.
   * @default `console/dist` of this repository
   */
  readonly consoleDir?: string;
  /**
   * Base URL of the runbooks linked from alarm descriptions (`<base>/<slug>.md`).
   * @default the console site's `/runbooks` (the stack publishes `docs/runbooks` there); without the ops toolkit,
   * the repository path `docs/runbooks`
   */
  readonly runbookBaseUrl?: string;
  /**
   * Cognito hosted-UI domain prefix; must be unique in the region.
   * @default `<resourcePrefix>-<account id>`
   */
  readonly cognitoDomainPrefix?: string;
}

/** A stack prop that cannot be deployed; the message names the prop. */
export class OrderflowStackPropsError extends Error {
  override readonly name = 'OrderflowStackPropsError';
  constructor(
    message: string,
    readonly prop: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

// Deliberately simple: one @, no spaces, a dot in the domain. SNS rejects anything it cannot deliver to anyway; this
// catches typos such as a missing domain at synth instead of at deploy.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PREFIX = /^[a-z][a-z0-9-]{0,30}$/;

export interface ResolvedPipe extends PipeDefinition {
  /** The validated pipe filter (non-empty, valid in the `pipes` dialect). */
  readonly filter: Record<string, unknown>;
}

/** Validates the props that synth cannot check by itself; every error names the prop. */
export function validateProps(props: OrderflowStackProps): {
  pipes: Readonly<Record<PipeKey, ResolvedPipe>>;
  journalTtlDays: number;
  resourcePrefix: string;
} {
  const definitions = props.pipes ?? PIPES;
  const pipes = {} as Record<PipeKey, ResolvedPipe>;
  for (const key of PIPE_KEYS) {
    const pipe = definitions[key];
    const prop = `pipes.${key}`;
    try {
      validateSourceSettings(key, pipe.source);
      pipes[key] = { ...pipe, filter: requirePipeFilter(key, pipe.rule.pattern) as Record<string, unknown> };
    } catch (error: unknown) {
      if (error instanceof Error)
        throw new OrderflowStackPropsError(`${prop}: ${error.message}`, prop, { cause: error });
      throw error;
    }
  }
  if (props.alarmEmail !== undefined && !EMAIL.test(props.alarmEmail)) {
    throw new OrderflowStackPropsError(
      `alarmEmail '${props.alarmEmail}' is not an email address (context value alarmEmail)`,
      'alarmEmail',
    );
  }
  const journalTtlDays = props.journalTtlDays ?? DEFAULT_JOURNAL_TTL_DAYS;
  if (!Number.isInteger(journalTtlDays) || journalTtlDays < 1) {
    throw new OrderflowStackPropsError(
      `journalTtlDays ${journalTtlDays} must be a whole number of days, at least 1`,
      'journalTtlDays',
    );
  }
  const resourcePrefix = props.resourcePrefix ?? DEFAULT_ALARM_PREFIX;
  if (!PREFIX.test(resourcePrefix)) {
    throw new OrderflowStackPropsError(
      `resourcePrefix '${resourcePrefix}' must be lowercase letters, digits and dashes, starting with a letter, at most 31 characters`,
      'resourcePrefix',
    );
  }
  return { pipes, journalTtlDays, resourcePrefix };
}
