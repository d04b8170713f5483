import type { PutMetric } from '../cloudwatch/metric-store.ts';
import type { AuthorizationDecision, Authorizer, Principal } from '../iam/authorizer.ts';
import type { TargetOutcome } from '../pipes/pipe-emulator.ts';
import { DynamoDbLocalArns } from './arns.ts';
import { DenialLog } from './denials.ts';
import type { ArnScope } from './dynamodb.ts';
import { type Endpoint, Enforcer, type Permission } from './enforcer.ts';
import { cloudWatchGate, lambdaGate } from './http-gates.ts';
import { dynamoDbInspector, sqsInspector, type WriteMetric } from './listeners.ts';
import { type LocalRole, PrincipalDirectory } from './principals.ts';
import { type GatewayListener, type ProxiedRequest, startGatewayListener, type Verdict } from './proxy.ts';
import { describeReader, StreamReaders } from './stream-readers.ts';

export { awsShapedArn, DYNAMODB_LOCAL_REGION, DynamoDbLocalArns } from './arns.ts';
export { type Denial, DenialLog, type DenialQuery } from './denials.ts';
export { type Endpoint, Enforcer, LOCAL_CONDITION_CONTEXT, type Permission } from './enforcer.ts';
export { actionGate, type CloudWatchGate, functionArn, type LambdaGate } from './http-gates.ts';
export { assumedRoleArn, type LocalCredentials, type LocalRole, PrincipalDirectory } from './principals.ts';

/** `on` (default): every request to a local endpoint is authorized; `off`: nothing is (`--iam off`, experiments). */
export type IamMode = 'on' | 'off';

/**
 * Local IAM enforcement as the runtime exposes it: the evaluator, who acts with which keys, and the denials. With
 * `--iam off` everything is allowed, `principals` is empty and nothing is ever denied.
 */
export interface LocalIam {
  readonly mode: IamMode;
  /** The policy evaluator; undefined with `--iam off`. */
  readonly authorizer: Authorizer | undefined;
  readonly principals: PrincipalDirectory;
  readonly denials: DenialLog;
  /**
   * Authorizes something the runtime does on a principal's behalf (an alarm action as `cloudwatch.amazonaws.com`, a
   * pipe's invocation as its role), recording a denial. Always allowed with `--iam off`.
   */
  authorize(principal: Principal, permission: Permission, endpoint: Endpoint): AuthorizationDecision;
  /** Authorization with denials recorded, for endpoints that check requests themselves (SNS); undefined when off. */
  readonly enforcer: Enforcer | undefined;
  /** The Lambda and CloudWatch endpoints' checks; undefined with `--iam off`. */
  readonly gates:
    | { readonly lambda: ReturnType<typeof lambdaGate>; readonly cloudwatch: ReturnType<typeof cloudWatchGate> }
    | undefined;
}

const ALLOWED: AuthorizationDecision = { allowed: true, reason: 'admin', message: '' };

export function createLocalIam(options: {
  readonly mode: IamMode;
  readonly authorizer?: Authorizer;
  readonly roles: readonly LocalRole[];
  readonly scope: ArnScope;
  /** `<stateDir>/denials.ndjson`; undefined keeps denials in memory only. */
  readonly denialsFile?: string;
}): LocalIam {
  if (options.mode === 'off') {
    const denials = new DenialLog(undefined);
    return {
      mode: 'off',
      authorizer: undefined,
      principals: new PrincipalDirectory([]),
      denials,
      enforcer: undefined,
      gates: undefined,
      authorize: () => ALLOWED,
    };
  }
  if (!options.authorizer) throw new Error('IAM enforcement is on but no policy evaluator (authorizer) was given');
  const principals = new PrincipalDirectory(options.roles);
  const denials = new DenialLog(options.denialsFile);
  const enforcer = new Enforcer(options.authorizer, principals, denials);
  return {
    mode: 'on',
    authorizer: options.authorizer,
    principals,
    denials,
    enforcer,
    gates: { lambda: lambdaGate(enforcer, options.scope), cloudwatch: cloudWatchGate(enforcer, options.scope) },
    authorize: (principal, permission, endpoint) => enforcer.authorize(principal, permission, endpoint),
  };
}

/** What one listener spent deciding requests (reading what it needs, authorizing, throttling), since it started. */
export interface GatewayStats {
  readonly requests: number;
  /** Wall time inside the decision, in milliseconds (it runs on the event loop: CPU time of this process). */
  readonly decideMs: number;
}

/** `inspect`, counting its calls and time into `stats`. */
function measured(
  inspect: (request: ProxiedRequest) => Verdict,
  stats: { requests: number; decideMs: number },
): (request: ProxiedRequest) => Verdict {
  return (request) => {
    const started = performance.now();
    try {
      return inspect(request);
    } finally {
      stats.requests++;
      stats.decideMs += performance.now() - started;
    }
  };
}

export interface Gateway {
  readonly dynamodb: GatewayListener;
  readonly sqs: GatewayListener;
  /** Each listener's decision cost so far (what IAM enforcement adds is the difference with `--iam off`). */
  stats(): Readonly<Record<'dynamodb' | 'sqs', GatewayStats>>;
  /**
   * The pipeline bench's switch: with `false`, a runtime started with enforcement forwards DynamoDB and SQS requests as
   * `--iam off` does (no authorization, no third-reader throttle) until switched back. It lets the bench compare both
   * in one runtime, in alternating blocks of orders, because fresh runtimes differ by more than the effect measured.
   * Not a CLI option: an operator turns enforcement off with `--iam off`, which the start-up banner prints.
   */
  setAuthorizing(authorizing: boolean): void;
  /** Who reads which stream shard; a third reader of a shard is throttled (stream-readers.ts). Not with `--iam off`. */
  readonly streamReaders: StreamReaders;
  stop(): Promise<void>;
}

/**
 * The DynamoDB (and Streams) and SQS listeners, on their public ports, in front of the emulators' internal ports. They
 * run with `--iam off` too (no enforcer): then they authorize nothing, and everything that is not IAM stays: DynamoDB
 * Local's ARNs presented AWS-shaped (arns.ts), the write metric, SQS's query protocol. Only the third-reader throttle
 * goes, because with `--iam off` every part of the runtime acts with the administrator's one key and readers cannot
 * be told apart.
 */
export async function startGateway(options: {
  /** Undefined with `--iam off`. */
  readonly enforcer: Enforcer | undefined;
  readonly scope: ArnScope;
  readonly ports: { readonly dynamodb: number; readonly sqs: number };
  readonly backends: { readonly dynamodb: number; readonly sqs: number };
  readonly publish: (metrics: PutMetric[]) => void;
  readonly writeMetric: WriteMetric;
  readonly onError?: (error: unknown) => void;
}): Promise<Gateway> {
  const { enforcer, scope, onError } = options;
  const arns = new DynamoDbLocalArns(scope);
  const streamReaders = new StreamReaders(
    (key) => (enforcer ? describeReader(enforcer.principals.principalOf(key), key) : `access key ${key}`),
    Date.now,
    (shard) => arns.toAws(shard),
  );
  const stats = { dynamodb: { requests: 0, decideMs: 0 }, sqs: { requests: 0, decideMs: 0 } };
  const dynamoDbWith = (authorizer: Enforcer | undefined) =>
    dynamoDbInspector({
      enforcer: authorizer,
      scope,
      publish: options.publish,
      writeMetric: options.writeMetric,
      ...(authorizer ? { streamReaders } : {}),
    });
  const inspectors = {
    authorizing: { dynamodb: dynamoDbWith(enforcer), sqs: sqsInspector({ enforcer, scope }) },
    forwarding: enforcer
      ? { dynamodb: dynamoDbWith(undefined), sqs: sqsInspector({ enforcer: undefined, scope }) }
      : undefined,
  };
  let current = inspectors.authorizing;
  const dynamodb = await startGatewayListener(options.ports.dynamodb, {
    what: 'DynamoDB',
    backendPort: options.backends.dynamodb,
    inspect: measured((request) => current.dynamodb(request), stats.dynamodb),
    ...(onError ? { onError } : {}),
  });
  let sqs: GatewayListener;
  try {
    sqs = await startGatewayListener(options.ports.sqs, {
      what: 'SQS',
      backendPort: options.backends.sqs,
      inspect: measured((request) => current.sqs(request), stats.sqs),
      ...(onError ? { onError } : {}),
    });
  } catch (error: unknown) {
    await dynamodb.stop();
    throw error;
  }
  return {
    dynamodb,
    sqs,
    streamReaders,
    stats: () => ({ dynamodb: { ...stats.dynamodb }, sqs: { ...stats.sqs } }),
    setAuthorizing(authorizing) {
      if (!inspectors.forwarding) throw new Error('the gateway was started with --iam off: it has nothing to switch');
      current = authorizing ? inspectors.authorizing : inspectors.forwarding;
    },
    async stop() {
      await Promise.all([dynamodb.stop(), sqs.stop()]);
    },
  };
}

/**
 * A pipe's Lambda target as Pipes calls it: with the pipe role's credentials, so `lambda:InvokeFunction` on the
 * function must be allowed (authorized in-process before the invocation). A refusal fails the invocation as
 * Pipes reports it, and the pipe retries and dead-letters as for any failed invocation.
 */
export function authorizedTarget<Batch>(
  iam: LocalIam,
  principal: Principal,
  functionArn: string,
  invoke: (batch: Batch) => Promise<TargetOutcome>,
): (batch: Batch) => Promise<TargetOutcome> {
  const permission: Permission = { action: 'lambda:InvokeFunction', resource: functionArn };
  return async (batch) => {
    const decision = iam.authorize(principal, permission, 'pipe');
    if (!decision.allowed) return { kind: 'error', message: `AccessDeniedException: ${decision.message}` };
    return invoke(batch);
  };
}
