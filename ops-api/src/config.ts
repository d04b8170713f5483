import { HANDLER_ENV, OPS_API_ENV, PIPE_KEYS, type PipeKey } from '@orderflow/pipeline/facts';
import { formatIssues, type RuntimeInfo, runtimeInfoSchema } from '@orderflow/pipeline/schemas';
import { z } from 'zod';

export interface PipeResources {
  /** The pipe's name (`orderflow-standard` locally; the CloudFormation-generated name in AWS). */
  readonly pipeName: string;
  readonly functionName: string;
  readonly dlqUrl: string;
}

export type AuthConfig =
  | { readonly mode: 'local'; readonly operatorToken: string; readonly viewerToken: string }
  | {
      readonly mode: 'cognito';
      readonly userPoolId: string;
      readonly clientId: string;
      readonly domain: string;
      readonly region: string;
    };

export interface OpsApiConfig {
  /** `local`: the local runtime's emulators (exact filter funnel); `aws`: real AWS (funnel head is an estimate). */
  readonly mode: 'local' | 'aws';
  readonly region: string;
  /** Per-service endpoint overrides (local mode); absent in AWS, where the SDK's defaults apply. */
  readonly endpoints?: {
    readonly dynamodb: string;
    readonly dynamodbStreams: string;
    readonly sqs: string;
    readonly lambda: string;
    readonly cloudwatch: string;
    /** The Pipes API (pipe-control.ts); the local runtime serves it on its Lambda endpoint. */
    readonly pipes: string;
  };
  /** Static credentials for the emulators; absent in AWS (the default provider chain). */
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
  readonly tables: {
    readonly orders: string;
    readonly journal: string;
    readonly idempotency: string;
    /** Append-only: PutItem (conditional on a new key) and Query, nothing else. */
    readonly audit: string;
    /** Redrive jobs, message leases, rate-limit counters and stream-read slots: the API's mutable state. */
    readonly jobs: string;
    /** The dead-letter store: Query (table and indexes) and BatchGetItem, nothing else. */
    readonly deadLetters: string;
  };
  readonly pipes: Readonly<Record<PipeKey, PipeResources>>;
  readonly auth: AuthConfig;
  /** Origin allowed by CORS (the console's); false: no cross-origin access (the console is served by this API). */
  readonly corsOrigin: string | false;
  /** Base URL of the console, for deep links in alarm answers. */
  readonly consoleUrl: string;
  /** Base URL the runbook paths are appended to. */
  readonly runbookBaseUrl: string;
  /** OpenAPI at `/docs/json`, with Swagger UI at `/docs` (`ui`) or without (`document`: the Lambda bundle). */
  readonly docs: 'ui' | 'document';
  /** Built console to serve at `/`, with SPA fallback. */
  readonly consoleDir?: string;
  /**
   * Where a redrive job runs once the POST has answered 202. `background`: in this process (a long-lived server: the
   * local runtime, `npm start -w ops-api`). `lambda-event`: in another invocation of the ops API's own function,
   * invoked asynchronously (`selfFunctionName`), with its own 15 minutes: a request's invocation is frozen once it has
   * answered, and an HTTP API waits at most 30 seconds (docs/AWS-FACTS.md, fact 14).
   */
  readonly jobExecution: 'background' | 'lambda-event';
  /** The ops API function's own name (`lambda-event`). */
  readonly selfFunctionName?: string;
  /** Requests per minute per authenticated principal before 429. */
  readonly rateLimitPerMinute: number;
  /**
   * Where the rate limit's counters are: `table` in the jobs table, shared by every instance (AWS: each Lambda instance
   * has its own memory); `memory` in this process (the local runtime is one process).
   */
  readonly rateLimitStore: 'memory' | 'table';
  /** Requests per minute per source address that fail authentication (or hit no route) before 429. */
  readonly unauthenticatedRateLimitPerMinute: number;
  /** Rule impact previews a principal may start a minute; default `IMPACT_RUNS_PER_MINUTE` (services/impact.ts). */
  readonly impactRunsPerMinute?: number;
  /**
   * How soon after reading a DLQ (one receive of every message) the API reads it again when its counts changed;
   * default the DlqBrowser's `VIEW_MIN_INTERVAL_MS`. Tests that send messages one after another set it lower.
   */
  readonly viewMinIntervalMs?: number;
  /**
   * The local runtime's own records, which AWS keeps elsewhere (`routes/local-ops.ts`): its IAM denials log and its
   * email outbox, each a `GET` URL of a local administration route (undefined: the runtime does not record it, e.g.
   * `--iam off`). Absent in AWS: denials are in CloudTrail and alarm email in mailboxes, which the API does not read.
   */
  readonly localRuntime?: { readonly denialsUrl?: string; readonly outboxUrl?: string };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly problems: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`invalid ops API configuration:\n  - ${problems.join('\n  - ')}`, options);
  }
}

const DEFAULT_RUNBOOK_BASE_URL = 'https://github.com/orderflow/orderflow/blob/main';
const DEFAULT_RATE_LIMIT_PER_MINUTE = 600;
const DEFAULT_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE = 30;

const httpUrl = (name: string) =>
  z.url({ protocol: /^https?$/, error: `${name} must be an http(s) URL` }).transform((url) => url.replace(/\/+$/, ''));
const required = (name: string) =>
  z
    .string({ error: `${name} is not set` })
    .trim()
    .min(1, `${name} is empty`);

/**
 * AWS mode: reads the variables named in pipeline's {@link OPS_API_ENV} (and {@link HANDLER_ENV} for the tables the
 * processors share) and reports every missing or malformed one at once.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): OpsApiConfig {
  const name = (key: keyof typeof OPS_API_ENV) => OPS_API_ENV[key];
  const table = (key: keyof typeof HANDLER_ENV) => HANDLER_ENV[key];
  const schema = z.object({
    [name('region')]: required(name('region')).regex(/^[a-z]{2}(-[a-z]+)+-\d$/, `${name('region')} must be a region`),
    [name('functionName')]: required(name('functionName')),
    [name('standardDlqUrl')]: httpUrl(name('standardDlqUrl')),
    [name('premiumDlqUrl')]: httpUrl(name('premiumDlqUrl')),
    [name('standardFunctionName')]: required(name('standardFunctionName')),
    [name('premiumFunctionName')]: required(name('premiumFunctionName')),
    [name('standardPipeName')]: required(name('standardPipeName')),
    [name('premiumPipeName')]: required(name('premiumPipeName')),
    [name('auditTable')]: required(name('auditTable')),
    [name('jobsTable')]: required(name('jobsTable')),
    [name('deadLetterTable')]: required(name('deadLetterTable')),
    [table('ordersTable')]: required(table('ordersTable')),
    [table('journalTable')]: required(table('journalTable')),
    [table('idempotencyTable')]: required(table('idempotencyTable')),
    [name('cognitoUserPoolId')]: required(name('cognitoUserPoolId')).regex(
      /^[\w-]+_[0-9a-zA-Z]+$/,
      `${name('cognitoUserPoolId')} must look like us-east-1_AbCdEf123`,
    ),
    [name('cognitoClientId')]: required(name('cognitoClientId')),
    [name('cognitoDomain')]: required(name('cognitoDomain')),
    [name('consoleOrigin')]: httpUrl(name('consoleOrigin')),
    [name('runbookBaseUrl')]: httpUrl(name('runbookBaseUrl')).optional(),
    [name('consoleDir')]: z.string().min(1).optional(),
  });
  const parsed = schema.safeParse(env);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error).map(stripPath), { cause: parsed.error });
  const v = parsed.data as Record<string, string | undefined>;
  const get = (key: string): string => v[key] ?? '';
  const region = get(name('region'));
  const consoleDir = v[name('consoleDir')];
  return {
    mode: 'aws',
    region,
    tables: {
      orders: get(table('ordersTable')),
      journal: get(table('journalTable')),
      idempotency: get(table('idempotencyTable')),
      audit: get(name('auditTable')),
      jobs: get(name('jobsTable')),
      deadLetters: get(name('deadLetterTable')),
    },
    pipes: {
      standard: {
        pipeName: get(name('standardPipeName')),
        functionName: get(name('standardFunctionName')),
        dlqUrl: get(name('standardDlqUrl')),
      },
      premium: {
        pipeName: get(name('premiumPipeName')),
        functionName: get(name('premiumFunctionName')),
        dlqUrl: get(name('premiumDlqUrl')),
      },
    },
    auth: {
      mode: 'cognito',
      userPoolId: get(name('cognitoUserPoolId')),
      clientId: get(name('cognitoClientId')),
      domain: get(name('cognitoDomain')),
      region,
    },
    corsOrigin: get(name('consoleOrigin')),
    consoleUrl: get(name('consoleOrigin')),
    runbookBaseUrl: v[name('runbookBaseUrl')] ?? DEFAULT_RUNBOOK_BASE_URL,
    ...(consoleDir ? { consoleDir } : {}),
    docs: 'document',
    jobExecution: 'lambda-event',
    selfFunctionName: get(name('functionName')),
    rateLimitPerMinute: DEFAULT_RATE_LIMIT_PER_MINUTE,
    rateLimitStore: 'table',
    unauthenticatedRateLimitPerMinute: DEFAULT_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE,
    ...localRuntimeOf(env),
  };
}

/**
 * The service endpoint variables of the AWS SDK for JavaScript v3, which the local runtime sets for every function
 * (its Lambda and SNS endpoints) and the template never does.
 */
export const LOCAL_ENDPOINT_VARIABLES = { lambda: 'AWS_ENDPOINT_URL_LAMBDA', sns: 'AWS_ENDPOINT_URL_SNS' } as const;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The function as deployed, run by the local runtime: its environment is the template's, plus what Lambda and the
 * runtime give every function. It knows it runs locally when its Lambda and SNS endpoints are loopback addresses, which
 * no function in AWS can have; the local administration routes are served by those endpoints.
 */
function localRuntimeOf(env: Readonly<Record<string, string | undefined>>): Pick<OpsApiConfig, 'localRuntime'> {
  const loopback = (name: string) => {
    const text = env[name];
    if (!text) return undefined;
    try {
      const url = new URL(text);
      return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname) ? url.origin : undefined;
    } catch {
      return undefined;
    }
  };
  const lambda = loopback(LOCAL_ENDPOINT_VARIABLES.lambda);
  const sns = loopback(LOCAL_ENDPOINT_VARIABLES.sns);
  if (!lambda || !sns) return {};
  return { localRuntime: { denialsUrl: `${lambda}/_local/denials`, outboxUrl: `${sns}/_local/outbox` } };
}

/** `AWS_REGION: AWS_REGION is not set` reads better as `AWS_REGION is not set`. */
function stripPath(problem: string): string {
  const colon = problem.indexOf(': ');
  return colon > 0 && problem.slice(colon + 2).startsWith(problem.slice(0, colon)) ? problem.slice(colon + 2) : problem;
}

export interface LocalConfigOptions {
  /** URL the console is served at (deep links, CORS); default: the runtime's console or ops API URL. */
  consoleUrl?: string;
  consoleDir?: string;
  runbookBaseUrl?: string;
  rateLimitPerMinute?: number;
  unauthenticatedRateLimitPerMinute?: number;
  impactRunsPerMinute?: number;
  viewMinIntervalMs?: number;
  rateLimitStore?: 'memory' | 'table';
  /**
   * The keys the API's AWS calls are signed with: the local runtime gives the in-process API its role's keys, so the
   * runtime's IAM enforcement holds it to the template's grants. Default: keys that act as the administrator.
   */
  credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
}

/** Local mode: everything from `.orderflow/runtime.json` (validated against pipeline's schema). */
export function configFromRuntimeInfo(info: RuntimeInfo, options: LocalConfigOptions = {}): OpsApiConfig {
  const parsed = runtimeInfoSchema.safeParse(info);
  if (!parsed.success) {
    throw new ConfigError(
      formatIssues(parsed.error).map((problem) => `runtime info ${problem}`),
      { cause: parsed.error },
    );
  }
  const runtime = parsed.data;
  const problems: string[] = [];
  if (runtime.tokens.operator.length < 16)
    problems.push('runtime info tokens.operator: must be at least 16 characters');
  if (runtime.tokens.viewer.length < 16) problems.push('runtime info tokens.viewer: must be at least 16 characters');
  if (runtime.tokens.operator === runtime.tokens.viewer)
    problems.push('runtime info tokens: operator and viewer tokens must differ');
  if (problems.length) throw new ConfigError(problems);
  const pipes = Object.fromEntries(
    PIPE_KEYS.map((key) => {
      const resources = runtime.resources.pipes[key];
      return [key, { pipeName: resources.name, functionName: resources.function, dlqUrl: resources.dlqUrl }];
    }),
  ) as Record<PipeKey, PipeResources>;
  const consoleUrl = (options.consoleUrl ?? runtime.console ?? runtime.opsApi ?? 'http://127.0.0.1:3000').replace(
    /\/+$/,
    '',
  );
  return {
    mode: 'local',
    region: runtime.region,
    // A runtime.json from before the Pipes endpoint lacks `pipes`; the runtime serves Pipes on its Lambda endpoint.
    endpoints: { ...runtime.endpoints, pipes: runtime.endpoints.pipes ?? runtime.endpoints.lambda },
    credentials: options.credentials ?? { accessKeyId: 'local', secretAccessKey: 'local' },
    tables: {
      orders: runtime.resources.ordersTable,
      journal: runtime.resources.journalTable,
      idempotency: runtime.resources.idempotencyTable,
      audit: runtime.resources.auditTable,
      jobs: runtime.resources.jobsTable,
      deadLetters: runtime.resources.deadLetterTable,
    },
    pipes,
    auth: { mode: 'local', operatorToken: runtime.tokens.operator, viewerToken: runtime.tokens.viewer },
    corsOrigin: new URL(consoleUrl).origin,
    consoleUrl,
    runbookBaseUrl: options.runbookBaseUrl ?? DEFAULT_RUNBOOK_BASE_URL,
    ...(options.consoleDir ? { consoleDir: options.consoleDir } : {}),
    docs: 'ui',
    jobExecution: 'background',
    rateLimitPerMinute: options.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT_PER_MINUTE,
    rateLimitStore: options.rateLimitStore ?? 'memory',
    unauthenticatedRateLimitPerMinute:
      options.unauthenticatedRateLimitPerMinute ?? DEFAULT_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE,
    ...(options.viewMinIntervalMs === undefined ? {} : { viewMinIntervalMs: options.viewMinIntervalMs }),
    ...(options.impactRunsPerMinute === undefined ? {} : { impactRunsPerMinute: options.impactRunsPerMinute }),
    localRuntime: {
      ...(runtime.iam?.enforcement === 'on' && runtime.iam.denials ? { denialsUrl: runtime.iam.denials } : {}),
      ...(runtime.endpoints.sns ? { outboxUrl: `${runtime.endpoints.sns.replace(/\/+$/, '')}/_local/outbox` } : {}),
    },
  };
}
