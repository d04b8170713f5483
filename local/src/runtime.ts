import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { buildApp, configFromRuntimeInfo } from '@orderflow/ops-api';
import {
  DYNAMODB_METRICS,
  DYNAMODB_NAMESPACE,
  LOGICAL_IDS,
  OPS_API_ENV,
  OPS_API_GROUPS,
  PIPE_KEYS,
  PIPES,
  SQS_METRICS,
  SQS_NAMESPACE,
  STACK_NAME,
} from '@orderflow/pipeline/facts';
import { type RuntimeInfo, runtimeInfoSchema, type StreamRecord } from '@orderflow/pipeline/schemas';
import { startCloudFormationServer } from './cloudformation/server.ts';
import { describeLocalStack, type LocalStack } from './cloudformation/stack.ts';
import { ManagementTrail } from './cloudtrail/trail.ts';
import { runAlarmActions } from './cloudwatch/actions.ts';
import { AlarmBoard, alarmArn } from './cloudwatch/alarms.ts';
import { dashboardSpecs } from './cloudwatch/dashboards.ts';
import { MetricStore, type PutMetric } from './cloudwatch/metric-store.ts';
import { startCloudWatchServer } from './cloudwatch/server.ts';
import {
  actionGate,
  authorizedTarget,
  awsShapedArn,
  createLocalIam,
  type DenialLog,
  functionArn,
  type Gateway,
  type IamMode,
  type LocalIam,
  type LocalRole,
  startGateway,
} from './gateway/index.ts';
import {
  COGNITO_ENDPOINT_VARIABLE,
  type FrontPlan,
  frontResources,
  type LocalFront,
  plainHttpForLocalHosts,
  planFront,
  startFront,
} from './http-api/index.ts';
import type { Authorizer } from './iam/authorizer.ts';
import { buildPolicySet, createAuthorizer, describeUnsupported } from './iam/index.ts';
import { templateFunctionCatalog } from './lambda/api-definitions.ts';
import { FunctionLogs } from './lambda/function-logs.ts';
import { LambdaService } from './lambda/lambda-service.ts';
import { startLambdaServer } from './lambda/server.ts';
import {
  type SqsEventSource,
  type SqsEventSourceTiming,
  startSqsEventSourceMappings,
} from './lambda/sqs-event-source.ts';
import { LogEventStore, templateLogGroupNames } from './logs/log-events.ts';
import { PipesApi } from './pipes/api.ts';
import { templatePipeDefinitions } from './pipes/api-definitions.ts';
import { pipesGate } from './pipes/api-gate.ts';
import { CheckpointStore } from './pipes/checkpoints.ts';
import { PipeEmulator, type TargetOutcome } from './pipes/pipe-emulator.ts';
import { StreamsApi } from './pipes/streams-api.ts';
import { LOCAL_CREDENTIALS, startDynamoDbLocal } from './services/dynamodb-local.ts';
import { assertPortFree, freePort, reservePorts } from './services/ports.ts';
import { startSqs } from './services/sqs.ts';
import type { MessageAttributes } from './sns/envelope.ts';
import { regionName } from './sns/model.ts';
import { Outbox } from './sns/outbox.ts';
import { startSnsServer } from './sns/server.ts';
import { SnsService } from './sns/sns-service.ts';
import type { LocalResourceValue } from './template/intrinsics.ts';
import {
  alarmSpecs,
  functionSpecs,
  keySpecs,
  loadTemplate,
  namedResources,
  pipeSpecs,
  queueSpecs,
  sqsEventSourceMappingSpecs,
  subscriptionSpecs,
  summarize,
  type TableSpec,
  TemplateError,
  type TemplateSummary,
  tableSpecs,
  topicAndKeyResources,
  topicSpecs,
} from './template/local-plan.ts';
import { startDemoTraffic, type TrafficGenerator } from './traffic/demo-traffic.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const LOCAL_REGION = 'us-east-1';
/** The account id the emulators use in ARNs (fauxqs and DynamoDB Local both use 000000000000). */
export const LOCAL_ACCOUNT = '000000000000';

export interface LocalRuntimePorts {
  dynamodb?: number;
  sqs?: number;
  lambda?: number;
  cloudwatch?: number;
  sns?: number;
  /** The read-only CloudFormation endpoint (the stack's outputs and resources). */
  cloudformation?: number;
  /** The ops API: the HTTP API front (`opsApi: 'lambda'`) or the in-process server. */
  opsApi?: number;
  /** The console site (`opsApi: 'lambda'`; the in-process ops API serves the console on its own port). */
  console?: number;
  /** The Cognito endpoint: the token issuer's JWKS (`opsApi: 'lambda'`). */
  cognito?: number;
}

export interface LocalRuntimeOptions {
  /** Directory with `Orderflow.template.json` and its assets. Default `stack/cdk.out`. */
  templateDir?: string;
  /** Demo orders per second, or 'off'. Default 'off'. */
  traffic?: 'off' | number;
  /** Keep DynamoDB data, SQS messages and pipe checkpoints here across restarts; default in memory. */
  dataDir?: string;
  /** Fixed ports; unset ones are free ports on 127.0.0.1. */
  ports?: LocalRuntimePorts;
  /**
   * The ops API. `'lambda'`: as deployed: the template's ops API function (its bundle in cdk.out) runs in the local
   * Lambda runtime behind the template's HTTP API (JWT authorizer, payload format 2.0, 30 s integration timeout), the
   * console is served from the template's console assets as CloudFront serves them, and runtime.json's tokens are
   * access tokens of the local Cognito token issuer (local/src/http-api). An in-process `LocalOpsApi`
   * (`@orderflow/ops-api`'s exports): the Fastify app in this process, with two random tokens, serving `consoleDir`
   * (tests of the API itself). Default none.
   */
  opsApi?: LocalOpsApi | 'lambda';
  /** The built console the in-process ops API serves; with `'lambda'` the template's console asset is served. */
  consoleDir?: string;
  /** Where runtime.json, function logs and (without dataDir) checkpoints go. Default `<repo>/.orderflow`. */
  stateDir?: string;
  /** Write `<stateDir>/runtime.json`. Default true. */
  writeRuntimeFile?: boolean;
  /** Progress lines (each step with its duration). */
  onProgress?: (message: string, elapsedMs: number) => void;
  /** Errors the runtime survives (a failed poll, a failed demo write). Default: printed to stderr. */
  onError?: (error: unknown) => void;
  /** Tuning for tests: poll interval and first retry delay of the pipes. */
  pipeTiming?: { pollIntervalMs?: number; activePollMs?: number; retryBaseDelayMs?: number };
  /** Tuning for tests: the back-offs of the SQS event source mappings. */
  eventSourceTiming?: SqsEventSourceTiming;
  /** Called as each function invocation starts (see LambdaServiceOptions.onInvoke). */
  onInvoke?: (functionName: string, event: unknown) => void;
  /** How often alarms are evaluated and SQS depth is sampled. Default 10 s. */
  observeIntervalMs?: number;
  /**
   * Local IAM enforcement. `on` (default): each role of the template gets its own keys, functions, pipes and the ops
   * API act with their role's, and every request to a local endpoint is authorized against the template's policies
   * first; any other key acts as the account administrator. `off`: nothing is authorized (experiments).
   */
  iam?: IamMode;
  /** The policy evaluator to enforce with, instead of one built from the template's policies (tests). */
  authorizer?: Authorizer;
}

/**
 * The part of `@orderflow/ops-api` the runtime starts, typed from its exports. Callers pass the package's own
 * functions (`import { buildApp, configFromRuntimeInfo } from '@orderflow/ops-api'`), so this module does not load
 * the ops API (Fastify and its plugins) when a runtime runs without it.
 */
export interface LocalOpsApi {
  buildApp: typeof buildApp;
  configFromRuntimeInfo: typeof configFromRuntimeInfo;
}

export interface LocalRuntime {
  readonly info: RuntimeInfo;
  readonly summary: TemplateSummary;
  readonly metrics: MetricStore;
  readonly alarms: AlarmBoard;
  /** The template's topics and subscriptions: Publish, deliveries (`deliveries()`), signing. */
  readonly sns: SnsService;
  /** Email deliveries, one file each in `<stateDir>/outbox/` (`GET <sns>/_local/outbox`). */
  readonly outbox: Outbox;
  /** The stack as the CloudFormation endpoint describes it; `unresolved` lists the outputs it leaves out. */
  readonly stack: LocalStack;
  readonly lambda: LambdaService;
  readonly pipes: ReadonlyMap<string, PipeEmulator>;
  /** The template's SQS event source mappings, by logical id (state, enable/disable). */
  readonly eventSourceMappings: ReadonlyMap<string, SqsEventSource>;
  /** Functions of the template that do not run locally, with the reason. */
  readonly skippedFunctions: readonly { logicalId: string; reason: string }[];
  /** What the start-up banner must say about this runtime's fidelity or exposure (e.g. a DynamoDB Local on all interfaces). */
  readonly warnings: readonly string[];
  /** Local IAM enforcement: the evaluator, the roles' keys, `authorize` for what the runtime does for a principal. */
  readonly iam: LocalIam & {
    /** Policy statements the evaluator cannot read, one line each, as printed at start. */
    readonly unsupported: readonly string[];
  };
  /** Every request refused by enforcement (`<stateDir>/denials.ndjson`, `GET <lambda>/_local/denials`). */
  readonly denials: DenialLog;
  /** The HTTP API front, the console site and the token issuer, with `opsApi: 'lambda'`. */
  readonly front?: LocalFront;
  /** The DynamoDB and SQS gateway: what deciding requests has cost, and the bench's switch (the measure of enforcement). */
  readonly gateway: Pick<Gateway, 'stats' | 'setAuthorizing'>;
  stop(): Promise<void>;
}

/** The users runtime.json's tokens are issued to (the actor names the ops API records in its audit). */
export const LOCAL_USERS = { operator: 'local-operator', viewer: 'local-viewer' } as const;

export class LocalRuntimeError extends Error {
  override readonly name = 'LocalRuntimeError';
}

function token(): string {
  return randomBytes(24).toString('base64url');
}

function createTableInput(spec: TableSpec): CreateTableCommandInput {
  return {
    TableName: spec.name,
    KeySchema: spec.keySchema,
    AttributeDefinitions: spec.attributeDefinitions,
    BillingMode: 'PAY_PER_REQUEST',
    ...(spec.globalSecondaryIndexes
      ? { GlobalSecondaryIndexes: spec.globalSecondaryIndexes as CreateTableCommandInput['GlobalSecondaryIndexes'] }
      : {}),
    ...(spec.localSecondaryIndexes
      ? { LocalSecondaryIndexes: spec.localSecondaryIndexes as CreateTableCommandInput['LocalSecondaryIndexes'] }
      : {}),
    ...(spec.streamViewType
      ? { StreamSpecification: { StreamEnabled: true, StreamViewType: spec.streamViewType } }
      : {}),
  };
}

/**
 * Creates the table (or finds it, with a data dir) and returns its stream ARN as AWS shapes it: in the runtime's
 * region, not DynamoDB Local's `ddblocal` (the gateway translates it back for DynamoDB Local, gateway/arns.ts).
 */
async function ensureTable(client: DynamoDBClient, spec: TableSpec): Promise<string | undefined> {
  let streamArn: string | undefined;
  try {
    const created = await client.send(new CreateTableCommand(createTableInput(spec)));
    streamArn = created.TableDescription?.LatestStreamArn;
  } catch (error: unknown) {
    if (!(error instanceof ResourceInUseException))
      throw new LocalRuntimeError(`cannot create table ${spec.name}: ${(error as Error).message}`, { cause: error });
    const described = await client.send(new DescribeTableCommand({ TableName: spec.name }));
    streamArn = described.Table?.LatestStreamArn;
  }
  if (spec.ttlAttribute) {
    await client
      .send(
        new UpdateTimeToLiveCommand({
          TableName: spec.name,
          TimeToLiveSpecification: { Enabled: true, AttributeName: spec.ttlAttribute },
        }),
      )
      .catch((error: unknown) => {
        // Enabling TTL twice (a persisted table) is a ValidationException; the setting is already in place.
        if ((error as Error).name !== 'ValidationException') throw error;
      });
  }
  return streamArn && awsShapedArn(streamArn, LOCAL_REGION);
}

/**
 * Starts the synthesized stack on this machine: DynamoDB Local, fauxqs, the Lambda and CloudWatch endpoints, the pipe
 * emulators, and optionally the ops API with the console and demo traffic. Everything is configured from the template.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const progress = options.onProgress ?? (() => undefined);
  // The stack's CreationTime: CloudFormation's "stack" is created as the runtime starts.
  const startedAt = new Date();
  const onError =
    options.onError ?? ((error: unknown) => console.error(`[orderflow-local] ${(error as Error).message ?? error}`));
  const stateDir = resolve(options.stateDir ?? join(REPO_ROOT, '.orderflow'));
  const stoppers: (() => Promise<void> | void)[] = [];
  const stopAll = async () => {
    for (const stopper of stoppers.reverse()) {
      try {
        await stopper();
      } catch (error: unknown) {
        onError(error);
      }
    }
    stoppers.length = 0;
  };
  const timed = async <T>(label: string, work: () => Promise<T> | T): Promise<T> => {
    const started = performance.now();
    const result = await work();
    progress(label, performance.now() - started);
    return result;
  };

  try {
    const loaded = await timed('template read', () =>
      loadTemplate(options.templateDir ?? join(REPO_ROOT, 'stack/cdk.out')),
    );
    const summary = summarize(loaded);
    const names = { region: LOCAL_REGION, account: LOCAL_ACCOUNT, stackName: STACK_NAME };
    const tables = tableSpecs(loaded, names);
    const queues = queueSpecs(loaded, names);
    for (const [what, id] of [
      ['orders table', LOGICAL_IDS.ordersTable],
      ['failure journal table', LOGICAL_IDS.journalTable],
    ] as const)
      if (!tables.some((t) => t.logicalId === id))
        throw new TemplateError(`template ${loaded.file} has no ${what} (logical id ${id})`);

    const ports = options.ports ?? {};
    for (const [what, port] of Object.entries(ports)) if (port !== undefined) await assertPortFree(port, what);
    // The fixed ports (a restart keeps its endpoints) stay out of the fresh picks below until their servers bind them.
    reservePorts(Object.values(ports).filter((port): port is number => port !== undefined));
    // The endpoints tools see are the gateway's (with --iam off too: it presents DynamoDB Local's ARNs AWS-shaped);
    // DynamoDB Local and fauxqs listen on internal ports.
    const enforcing = (options.iam ?? 'on') === 'on';
    const gatewayPorts = { dynamodb: ports.dynamodb ?? (await freePort()), sqs: ports.sqs ?? (await freePort()) };
    const [dynamo, sqs] = await Promise.all([
      timed('DynamoDB Local up', async () => {
        const started = await startDynamoDbLocal({
          ...(options.dataDir ? { dataDir: resolve(options.dataDir) } : {}),
        });
        stoppers.push(() => started.stop());
        return started;
      }),
      timed('SQS (fauxqs) up', async () => {
        const started = await startSqs({
          queueUrlHost: `127.0.0.1:${gatewayPorts.sqs}`,
          ...(options.dataDir ? { dataDir: resolve(options.dataDir) } : {}),
          region: LOCAL_REGION,
        });
        stoppers.push(() => started.stop());
        return started;
      }),
    ]);
    // Creating the template's tables is CloudFormation's work, not a request of anyone in it: straight to DynamoDB Local.
    const clientConfig = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
    const dynamoClient = new DynamoDBClient({ ...clientConfig, endpoint: dynamo.endpoint });
    const clients: { destroy(): void }[] = [dynamoClient];
    stoppers.push(() => {
      for (const client of clients) client.destroy();
    });

    const resources = new Map<string, LocalResourceValue>();
    await timed(`${tables.length} tables created`, async () => {
      for (const spec of tables) {
        const streamArn = await ensureTable(dynamoClient, spec);
        resources.set(spec.logicalId, {
          ref: spec.name,
          attributes: {
            Arn: `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/${spec.name}`,
            ...(streamArn ? { StreamArn: streamArn } : {}),
          },
        });
      }
    });
    await timed(`${queues.length} queues created`, () => {
      // Dead-letter queues first: a RedrivePolicy names a queue that must exist.
      const ordered = [...queues].sort(
        (a, b) => Number('RedrivePolicy' in a.attributes) - Number('RedrivePolicy' in b.attributes),
      );
      for (const spec of ordered) {
        const { queueUrl, queueArn } = sqs.createQueue(spec.name, spec.attributes);
        resources.set(spec.logicalId, {
          ref: queueUrl,
          attributes: { Arn: queueArn, QueueName: spec.name, QueueUrl: queueUrl },
        });
      }
    });
    for (const [type, property, arn] of [
      [
        'AWS::Lambda::Function',
        'FunctionName',
        (n: string) => `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${n}`,
      ],
      ['AWS::Pipes::Pipe', 'Name', (n: string) => `arn:aws:pipes:${LOCAL_REGION}:${LOCAL_ACCOUNT}:pipe/${n}`],
      ['AWS::CloudWatch::Alarm', 'AlarmName', (n: string) => alarmArn(n, LOCAL_REGION, LOCAL_ACCOUNT)],
      ['AWS::CloudWatch::CompositeAlarm', 'AlarmName', (n: string) => alarmArn(n, LOCAL_REGION, LOCAL_ACCOUNT)],
    ] as const)
      for (const [id, name] of namedResources(loaded, names, type, property))
        resources.set(id, { ref: name, attributes: { Arn: arn(name) } });
    // Topics (Ref = ARN) and KMS keys: alarm actions, topic policies and key references resolve through them.
    for (const [id, value] of topicAndKeyResources(loaded, names)) resources.set(id, value);
    // The HTTP APIs, user pools and console distribution: their ids always (the ops API function's environment and
    // role refer to them), their local endpoints when the front runs.
    const frontPlan: FrontPlan | undefined =
      options.opsApi === 'lambda'
        ? await planFront(loaded, names, {
            ...(ports.opsApi ? { api: ports.opsApi } : {}),
            ...(ports.console ? { console: ports.console } : {}),
            ...(ports.cognito ? { cognito: ports.cognito } : {}),
          })
        : undefined;
    for (const [id, value] of frontPlan?.resources ?? frontResources(loaded, names)) resources.set(id, value);
    const context = { ...names, resources };
    // Known before the functions start, so their SDKs can be pointed at the SNS and Lambda endpoints too.
    const snsPort = ports.sns ?? (await freePort());
    const lambdaPort = ports.lambda ?? (await freePort());

    const metrics = new MetricStore();
    const publish = (list: PutMetric[]) => {
      for (const metric of list) metrics.put(metric);
    };

    // Local IAM: the template's policies, a key per role, the gateway in front of DynamoDB Local and fauxqs.
    const scope = { region: LOCAL_REGION, account: LOCAL_ACCOUNT };
    const policies = enforcing ? await timed('IAM policies read', () => buildPolicySet(loaded, context)) : undefined;
    const roleOfUse = new Map<string, string>();
    const roles: LocalRole[] = [];
    if (policies) {
      const sessionNames = new Map<string, string>();
      for (const use of [...policies.lambdaExecutionRoles, ...policies.pipeRoles]) {
        if (!use.roleLogicalId) continue;
        roleOfUse.set(use.logicalId, use.roleLogicalId);
        // Lambda names the session after the function; a pipe's session is named after the pipe here.
        if (!sessionNames.has(use.roleLogicalId))
          sessionNames.set(use.roleLogicalId, resources.get(use.logicalId)?.ref ?? use.logicalId);
      }
      for (const role of policies.roles.values())
        roles.push({
          logicalId: role.logicalId,
          roleArn: role.arn,
          sessionName: sessionNames.get(role.logicalId) ?? role.logicalId,
        });
    }
    const iam = createLocalIam({
      mode: enforcing ? 'on' : 'off',
      ...(enforcing
        ? { authorizer: options.authorizer ?? createAuthorizer(policies as NonNullable<typeof policies>) }
        : {}),
      roles,
      scope,
      denialsFile: join(stateDir, 'denials.ndjson'),
    });
    const unsupported = policies ? describeUnsupported(policies.unsupported) : [];
    stoppers.push(() => iam.denials.close());
    const gateway: Gateway = await timed(
      enforcing ? 'IAM gateway up (DynamoDB, SQS)' : 'gateway up (DynamoDB, SQS; authorizes nothing)',
      () =>
        startGateway({
          enforcer: iam.enforcer,
          scope,
          ports: gatewayPorts,
          backends: { dynamodb: dynamo.port, sqs: sqs.port },
          publish,
          writeMetric: { namespace: DYNAMODB_NAMESPACE, metricName: DYNAMODB_METRICS.consumedWriteCapacityUnits },
          onError,
        }),
    );
    stoppers.push(() => gateway.stop());
    const endpoints = { dynamodb: gateway.dynamodb.endpoint, sqs: gateway.sqs.endpoint };
    /** The keys a function, pipe or the ops API acts with: its role's; the administrator's with `--iam off`. */
    const credentialsOf = (logicalId: string) => {
      const role = roleOfUse.get(logicalId);
      return role && iam.principals.has(role) ? iam.principals.role(role) : undefined;
    };

    // An alarm description's runbook and console links are `https://` + the console distribution's domain; with the
    // front running they are the local console site's `http://` URLs, as in the functions' environment below.
    const localAlarmSpecs = alarmSpecs(loaded, context).map((spec) =>
      frontPlan && spec.description
        ? { ...spec, description: plainHttpForLocalHosts(spec.description, frontPlan) }
        : spec,
    );
    const alarms = new AlarmBoard(localAlarmSpecs, metrics, Date.now(), names);
    // The functions' log events for the CloudWatch Logs API, and the management trail for CloudTrail's LookupEvents,
    // both served on the CloudWatch endpoint (logs/api.ts, cloudtrail/api.ts).
    const logEvents = new LogEventStore();
    const trail = new ManagementTrail(scope, iam.enforcer ? iam.principals : undefined);
    for (const group of templateLogGroupNames(loaded)) logEvents.declare(group);
    const cloudwatch = await timed('CloudWatch endpoint up', async () =>
      startCloudWatchServer(
        {
          store: metrics,
          alarms,
          dashboards: dashboardSpecs(loaded, context),
          region: LOCAL_REGION,
          account: LOCAL_ACCOUNT,
          ...(iam.gates ? { gate: iam.gates.cloudwatch } : {}),
          logs: {
            store: logEvents,
            region: LOCAL_REGION,
            account: LOCAL_ACCOUNT,
            ...(iam.enforcer ? { gate: actionGate(iam.enforcer, 'logs') } : {}),
          },
          cloudtrail: { trail, ...(iam.enforcer ? { gate: actionGate(iam.enforcer, 'cloudtrail') } : {}) },
        },
        ports.cloudwatch ?? (await freePort()),
      ),
    );
    stoppers.push(() => cloudwatch.stop());

    const { functions: templateFunctions, skipped } = functionSpecs(loaded, context);
    // Each function runs with its execution role's keys, as Lambda hands them to it (they are reserved variables, so
    // they win over the function's own environment).
    // With the front running, a URL the template builds as `https://` + the console distribution's domain is the
    // local console's `http://` URL (the ops API function's console origin and runbook links).
    const functions = templateFunctions.map((template) => {
      const spec = frontPlan
        ? {
            ...template,
            environment: Object.fromEntries(
              Object.entries(template.environment).map(([name, value]) => [
                name,
                plainHttpForLocalHosts(value, frontPlan),
              ]),
            ),
          }
        : template;
      const keys = credentialsOf(spec.logicalId)?.credentials;
      return keys
        ? {
            ...spec,
            environment: {
              ...spec.environment,
              AWS_ACCESS_KEY_ID: keys.accessKeyId,
              AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
              AWS_SESSION_TOKEN: keys.sessionToken,
            },
          }
        : spec;
    });
    const logs = new FunctionLogs(join(stateDir, 'logs'));
    const catalog = templateFunctionCatalog({ loaded, context, runnable: templateFunctions, skipped });
    /** The log group a function writes to: its `LoggingConfig.LogGroup` as GetFunctionConfiguration reports it. */
    const logGroupOf = (functionName: string) =>
      String(
        (catalog.functions.get(functionName)?.configuration.LoggingConfig as { LogGroup?: unknown } | undefined)
          ?.LogGroup ?? `/aws/lambda/${functionName}`,
      );
    for (const function_ of catalog.functions.keys()) logEvents.declare(logGroupOf(function_));
    const lambda = new LambdaService(functions, {
      region: LOCAL_REGION,
      account: LOCAL_ACCOUNT,
      publish,
      ...(options.onInvoke ? { onInvoke: options.onInvoke } : {}),
      baseEnvironment: {
        AWS_REGION: LOCAL_REGION,
        AWS_DEFAULT_REGION: LOCAL_REGION,
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        // Service-specific endpoint variables, honoured by AWS SDK for JavaScript v3.
        AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
        AWS_ENDPOINT_URL_DYNAMODB_STREAMS: endpoints.dynamodb,
        AWS_ENDPOINT_URL_SQS: endpoints.sqs,
        AWS_ENDPOINT_URL_CLOUDWATCH: cloudwatch.endpoint,
        AWS_ENDPOINT_URL_SNS: `http://127.0.0.1:${snsPort}`,
        AWS_ENDPOINT_URL_LAMBDA: `http://127.0.0.1:${lambdaPort}`,
        // The Pipes API is served on the Lambda endpoint's server (pipes/api.ts).
        AWS_ENDPOINT_URL_PIPES: `http://127.0.0.1:${lambdaPort}`,
        // The one thing of the ops toolkit's environment that is not the template's: Cognito's JWKS is the local
        // token issuer's (the worker sends HTTPS requests for cognito-idp.<region>.amazonaws.com there).
        ...(frontPlan ? { [COGNITO_ENDPOINT_VARIABLE]: frontPlan.cognitoEndpoint } : {}),
        // The variable Powertools for TypeScript reads; with it the processors do not even load the X-Ray SDK.
        POWERTOOLS_TRACE_ENABLED: 'false',
        AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
        NODE_ENV: 'production',
      },
      log: (functionName, line) => {
        logs.write(functionName, line);
        logEvents.append(logGroupOf(functionName), functionName, line);
      },
    });
    stoppers.push(async () => {
      await lambda.stop();
      await logs.close();
    });
    // The Lambda endpoint also serves the Lambda API's reads of the template's functions and the Pipes API (the pipes
    // are added to it as they start below).
    const pipesApi = new PipesApi({
      ...(iam.enforcer ? { gate: pipesGate(iam.enforcer, scope) } : {}),
      trail,
      onError,
    });
    // The SQS event source mappings it reports start below; their live state is looked up by UUID once they run.
    const mappingsByUuid = new Map<string, SqsEventSource>();
    const lambdaServer = await timed(`${functions.length} functions ready, Lambda endpoint up`, async () =>
      startLambdaServer(lambda, lambdaPort, {
        ...(iam.gates ? { gate: iam.gates.lambda, denials: iam.denials } : {}),
        functions: catalog,
        trail,
        mappings: {
          status: (uuid) => mappingsByUuid.get(uuid)?.describe(),
          setEnabled: (uuid, enabled) => {
            const mapping = mappingsByUuid.get(uuid);
            if (!mapping) return false;
            (enabled ? mapping.enable() : mapping.disable()).catch(onError);
            return true;
          },
        },
        pipes: pipesApi,
      }),
    );
    stoppers.push(() => lambdaServer.stop());

    // SNS: the template's topics and subscriptions; alarm actions publish to them as CloudWatch does.
    const outbox = new Outbox(join(stateDir, 'outbox'));
    const deliverySqs = new SQSClient({ ...clientConfig, endpoint: sqs.endpoint });
    const queueUrlOf = (arn: string) => {
      const spec = queues.find((q) => `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${q.name}` === arn);
      const url = spec ? resources.get(spec.logicalId)?.ref : undefined;
      if (!url) throw new Error(`queue ${arn} is not a queue of the template`);
      return url;
    };
    const snsService = new SnsService({
      ...names,
      endpoint: `http://127.0.0.1:${snsPort}`,
      topics: topicSpecs(loaded, context),
      subscriptions: subscriptionSpecs(loaded, context),
      keys: keySpecs(loaded, names),
      ...(iam.mode === 'on' ? { authorize: iam.authorize } : {}),
      targets: {
        sqs: async (queueArn, body, settings) => {
          await deliverySqs.send(
            new SendMessageCommand({
              QueueUrl: queueUrlOf(queueArn),
              MessageBody: body,
              ...(settings.attributes ? { MessageAttributes: sqsAttributes(settings.attributes) } : {}),
              ...(settings.groupId ? { MessageGroupId: settings.groupId } : {}),
              ...(settings.deduplicationId ? { MessageDeduplicationId: settings.deduplicationId } : {}),
            }),
          );
        },
        lambda: async (functionArn, event) => {
          const result = await lambda.invoke(functionArn, event);
          if (result.kind === 'throttled') throw new Error(`Lambda throttled the invocation: ${result.message}`);
          if (result.kind === 'error') throw new Error(`${result.error.errorType}: ${result.error.errorMessage}`);
        },
      },
      outbox,
      publishMetrics: publish,
      onError,
    });
    const snsServer = await timed('SNS endpoint up', () =>
      startSnsServer(
        { service: snsService, outbox, ...names, ...(iam.enforcer ? { enforcer: iam.enforcer } : {}) },
        snsPort,
      ),
    );
    stoppers.push(async () => {
      await snsServer.stop();
      await snsService.settled();
      deliverySqs.destroy();
    });
    stoppers.push(runAlarmActions(alarms, { ...names, sns: snsService, regionName: regionName(LOCAL_REGION) }));

    // Each pipe reads the stream, invokes its target and sends to its DLQ with its role's keys, through the gateway.
    const adminStreams = new StreamsApi(endpoints.dynamodb, LOCAL_REGION);
    const adminSqs = new SQSClient({ ...clientConfig, endpoint: endpoints.sqs });
    clients.push(adminSqs);
    const pipes = new Map<string, PipeEmulator>();
    const specs = pipeSpecs(loaded, context);
    const pipeDefinitions = templatePipeDefinitions(loaded, context);
    await timed(`${specs.length} pipes polling`, async () => {
      for (const spec of specs) {
        const streamArn = resources.get(spec.sourceTableId)?.attributes.StreamArn;
        if (!streamArn)
          throw new TemplateError(
            `pipe ${spec.logicalId}: table ${spec.sourceTableId} has no stream (StreamSpecification)`,
          );
        const dlqUrl = spec.deadLetterQueueId ? resources.get(spec.deadLetterQueueId)?.ref : undefined;
        const role = credentialsOf(spec.logicalId);
        const streams = role
          ? new StreamsApi(endpoints.dynamodb, LOCAL_REGION, role.credentials.accessKeyId)
          : adminStreams;
        const dlqClient = role
          ? new SQSClient({ region: LOCAL_REGION, endpoint: endpoints.sqs, credentials: role.credentials })
          : adminSqs;
        if (role) clients.push(dlqClient);
        const invoke = (batch: StreamRecord[]) => invokeTarget(lambda, spec.targetFunction, batch);
        const emulator = new PipeEmulator({
          name: spec.name,
          ...(PIPE_KEYS.find((k) => PIPES[k].pipeId === spec.logicalId)
            ? { metricsPipe: PIPE_KEYS.find((k) => PIPES[k].pipeId === spec.logicalId) }
            : {}),
          streamArn,
          streams,
          settings: spec.settings,
          filters: spec.filters,
          target: role
            ? authorizedTarget(iam, role.principal, functionArn(spec.targetFunction, scope), invoke)
            : invoke,
          ...(dlqUrl
            ? {
                deadLetter: async (body: string) =>
                  void (await dlqClient.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: body }))),
              }
            : {}),
          checkpoints: new CheckpointStore(
            join(options.dataDir ? resolve(options.dataDir) : stateDir, 'checkpoints', `${spec.name}.json`),
            { streamOf: (key) => awsShapedArn(key, LOCAL_REGION) },
          ),
          publish,
          region: LOCAL_REGION,
          account: LOCAL_ACCOUNT,
          ...options.pipeTiming,
          onError,
        });
        pipes.set(spec.name, emulator);
        const definition = pipeDefinitions.get(spec.logicalId);
        if (definition) pipesApi.add(emulator, definition);
        // Every pipe is stopped with the runtime, including one started later (StartPipe); DesiredState STOPPED: STOPPED.
        stoppers.push(() => emulator.stop());
        await (spec.desiredState === 'RUNNING' ? emulator.start() : emulator.stop());
      }
    });

    // SQS event source mappings poll their queue with their function's execution role, through the gateway.
    const mappingSpecs = sqsEventSourceMappingSpecs(loaded, context);
    const eventSources = await timed(`${mappingSpecs.length} SQS event source mappings created`, () =>
      startSqsEventSourceMappings({
        specs: mappingSpecs,
        lambda,
        iam,
        roleOf: credentialsOf,
        queueUrlOf: (id) => resources.get(id)?.ref,
        endpoint: endpoints.sqs,
        adminCredentials: LOCAL_CREDENTIALS,
        region: LOCAL_REGION,
        stackName: STACK_NAME,
        ...(options.eventSourceTiming ? { timing: options.eventSourceTiming } : {}),
        onError,
      }),
    );
    stoppers.push(() => eventSources.close());
    for (const mapping of eventSources.mappings.values()) mappingsByUuid.set(mapping.describe().UUID, mapping);

    // The stack's read API: its outputs and resources with the local values of everything created above.
    const stack = describeLocalStack({
      loaded,
      context,
      created: startedAt,
      ...(frontPlan ? { localValue: (value: string) => plainHttpForLocalHosts(value, frontPlan) } : {}),
    });
    const cloudFormationPort = ports.cloudformation ?? (await freePort());
    const cloudFormationServer = await timed('CloudFormation endpoint up (read-only)', () =>
      startCloudFormationServer({ stack, ...(iam.enforcer ? { enforcer: iam.enforcer } : {}) }, cloudFormationPort),
    );
    stoppers.push(() => cloudFormationServer.stop());

    const observe = () => {
      const now = Date.now();
      for (const spec of queues) {
        const depth = sqs.inspect(spec.name);
        if (!depth) continue;
        const dimensions = { QueueName: spec.name };
        publish([
          {
            namespace: SQS_NAMESPACE,
            metricName: SQS_METRICS.messagesVisible,
            dimensions,
            value: depth.visible,
            unit: 'Count',
            timestamp: now,
          },
          {
            namespace: SQS_NAMESPACE,
            metricName: SQS_METRICS.messagesNotVisible,
            dimensions,
            value: depth.notVisible,
            unit: 'Count',
            timestamp: now,
          },
          {
            namespace: SQS_NAMESPACE,
            metricName: SQS_METRICS.ageOfOldestMessage,
            dimensions,
            value: depth.oldestSentAt === undefined ? 0 : Math.floor((now - depth.oldestSentAt) / 1000),
            unit: 'Seconds',
            timestamp: now,
          },
        ]);
      }
      try {
        alarms.evaluate(now);
      } catch (error: unknown) {
        onError(error);
      }
    };
    observe();
    const observer = setInterval(observe, options.observeIntervalMs ?? 10_000);
    stoppers.push(() => clearInterval(observer));

    const resource = (id: string, what: string) => {
      const value = resources.get(id)?.ref;
      if (!value) throw new TemplateError(`template ${loaded.file} has no ${what} (logical id ${id})`);
      return value;
    };
    const pipeInfo = (key: (typeof PIPE_KEYS)[number]) => {
      const spec = specs.find((s) => s.logicalId === PIPES[key].pipeId);
      if (!spec)
        throw new TemplateError(`template ${loaded.file} has no ${key} pipe (logical id ${PIPES[key].pipeId})`);
      return { name: spec.name, function: spec.targetFunction, dlqUrl: resource(PIPES[key].dlqId, `${key} pipe DLQ`) };
    };
    const { opsApi } = options;
    // The template's ops API function: the in-process ops API acts as it does (with its role), and the front's HTTP
    // API is the one whose routes invoke it.
    const opsApiFunction = templateFunctions.find((spec) => OPS_API_ENV.standardDlqUrl in spec.environment);
    const inProcess = opsApi !== undefined && opsApi !== 'lambda' ? opsApi : undefined;
    let front: LocalFront | undefined;
    let opsApiUrl: string | undefined;
    let consoleUrl: string | undefined;
    const frontTokens = () => ({
      operator: (front as LocalFront).token(LOCAL_USERS.operator, [OPS_API_GROUPS.operator]),
      viewer: (front as LocalFront).token(LOCAL_USERS.viewer, [OPS_API_GROUPS.viewer]),
    });
    if (frontPlan) {
      front = await timed('ops API up: HTTP API, console and token issuer', () =>
        startFront({ loaded, context, plan: frontPlan, lambda, iam, onError }),
      );
      const started = front;
      stoppers.push(() => started.stop());
      const api = [...front.apis.values()].find((server) =>
        server.front.spec.routes.some((route) => route.integration.functionName === opsApiFunction?.name),
      );
      if (!opsApiFunction || !api)
        throw new TemplateError(
          `template ${loaded.file} has no HTTP API in front of the ops API function; run the ops API in-process (--ops-api in-process) or synthesize the stack with its ops toolkit`,
        );
      opsApiUrl = api.endpoint;
      consoleUrl = front.console?.url;
    } else if (inProcess) {
      opsApiUrl = `http://127.0.0.1:${ports.opsApi ?? (await freePort())}`;
      if (options.consoleDir) consoleUrl = `${opsApiUrl}/`;
    }
    const issued = front ? frontTokens() : undefined;
    const info: RuntimeInfo = runtimeInfoSchema.parse({
      region: LOCAL_REGION,
      endpoints: {
        dynamodb: endpoints.dynamodb,
        dynamodbStreams: endpoints.dynamodb,
        sqs: endpoints.sqs,
        lambda: lambdaServer.endpoint,
        cloudwatch: cloudwatch.endpoint,
        // CloudWatch Logs and CloudTrail are served on the CloudWatch endpoint (logs/api.ts, cloudtrail/api.ts).
        logs: cloudwatch.endpoint,
        cloudtrail: cloudwatch.endpoint,
        sns: snsServer.endpoint,
        pipes: lambdaServer.endpoint,
        cloudformation: cloudFormationServer.endpoint,
      },
      iam: {
        enforcement: iam.mode,
        ...(iam.mode === 'on' ? { denials: `${lambdaServer.endpoint}/_local/denials` } : {}),
      },
      principals: iam.principals.toJSON(),
      ...(opsApiUrl ? { opsApi: opsApiUrl } : {}),
      ...(consoleUrl ? { console: consoleUrl } : {}),
      tokens: issued
        ? { operator: issued.operator.token, viewer: issued.viewer.token }
        : { operator: token(), viewer: token() },
      resources: {
        ordersTable: resource(LOGICAL_IDS.ordersTable, 'orders table'),
        journalTable: resource(LOGICAL_IDS.journalTable, 'failure journal table'),
        idempotencyTable: resource(LOGICAL_IDS.idempotencyTable, 'idempotency table'),
        auditTable: resource(LOGICAL_IDS.auditTable, 'audit table'),
        jobsTable: resource(LOGICAL_IDS.jobsTable, 'ops jobs table'),
        deadLetterTable: resource(LOGICAL_IDS.deadLetterTable, 'dead-letter table'),
        priorityShipmentsTable: resource(LOGICAL_IDS.priorityShipmentsTable, 'priority shipments table'),
        notificationQueueUrl: resource(LOGICAL_IDS.notificationQueue, 'notification queue'),
        accountManagerQueueUrl: resource(LOGICAL_IDS.accountManagerQueue, 'account manager queue'),
        pipes: { standard: pipeInfo('standard'), premium: pipeInfo('premium') },
      },
    });

    // The in-process ops API acts as the template's ops API function does: with that function's role.
    const opsApiKeys = opsApiFunction ? credentialsOf(opsApiFunction.logicalId)?.credentials : undefined;
    if (inProcess && opsApiUrl)
      await timed('ops API up (in-process)', () =>
        startOpsApi(
          inProcess,
          info,
          Number(new URL(opsApiUrl).port),
          { consoleDir: options.consoleDir, credentials: opsApiKeys },
          stoppers,
        ),
      );

    const runtimeFile = join(stateDir, 'runtime.json');
    const writeInfo = () => {
      if (options.writeRuntimeFile === false) return;
      mkdirSync(stateDir, { recursive: true });
      // It holds the operator token and the roles' keys: readable by its owner only (also when it existed before,
      // which `mode` alone would not change).
      writeFileSync(runtimeFile, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
      chmodSync(runtimeFile, 0o600);
    };
    writeInfo();
    if (options.writeRuntimeFile !== false) stoppers.unshift(() => rmSync(runtimeFile, { force: true }));
    if (issued) {
      // Access tokens live as long as the app client says (60 minutes for the console's): runtime.json (and `info`)
      // always hold tokens with at least half of that left, so tools reading it keep working on a long run.
      const refresh = setInterval(
        () => {
          const fresh = frontTokens();
          info.tokens.operator = fresh.operator.token;
          info.tokens.viewer = fresh.viewer.token;
          writeInfo();
        },
        Math.max(60_000, (issued.operator.expiresAt - Date.now()) / 2),
      );
      refresh.unref();
      stoppers.push(() => clearInterval(refresh));
    }

    if (options.traffic !== undefined && options.traffic !== 'off') {
      // Demo traffic is a tool like the CLI: it writes through the endpoint with keys that act as the administrator.
      const trafficClient = new DynamoDBClient({ ...clientConfig, endpoint: endpoints.dynamodb });
      clients.push(trafficClient);
      const traffic: TrafficGenerator = startDemoTraffic({
        client: trafficClient,
        tableName: info.resources.ordersTable,
        ordersPerSecond: options.traffic,
        onError,
      });
      stoppers.push(() => traffic.stop());
    }

    return {
      info,
      summary,
      metrics,
      alarms,
      sns: snsService,
      outbox,
      stack,
      lambda,
      pipes,
      eventSourceMappings: eventSources.mappings,
      skippedFunctions: skipped,
      warnings: dynamo.warning ? [dynamo.warning] : [],
      iam: { ...iam, unsupported },
      denials: iam.denials,
      ...(front ? { front } : {}),
      gateway: { stats: () => gateway.stats(), setAuthorizing: (authorizing) => gateway.setAuthorizing(authorizing) },
      stop: stopAll,
    };
  } catch (error: unknown) {
    await stopAll();
    throw error;
  }
}

/** Message attributes as SQS takes them (raw message delivery keeps the published attributes). */
function sqsAttributes(attributes: MessageAttributes) {
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [
      name,
      {
        DataType: value.DataType,
        ...(value.StringValue !== undefined ? { StringValue: value.StringValue } : {}),
        ...(value.BinaryValue !== undefined ? { BinaryValue: value.BinaryValue } : {}),
      },
    ]),
  );
}

/** Invokes a pipe's Lambda target and turns the result into what the pipe emulator interprets. */
async function invokeTarget(
  lambda: LambdaService,
  functionName: string,
  batch: StreamRecord[],
): Promise<TargetOutcome> {
  const result = await lambda.invoke(functionName, batch);
  if (result.kind === 'success') return { kind: 'response', payload: result.payload };
  if (result.kind === 'throttled') return { kind: 'throttled' };
  return {
    kind: 'error',
    message: `${result.error.errorType}: ${result.error.errorMessage}`,
    timedOut: result.timedOut,
  };
}

async function startOpsApi(
  opsApi: LocalOpsApi,
  info: RuntimeInfo,
  port: number,
  settings: {
    consoleDir: string | undefined;
    credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string } | undefined;
  },
  stoppers: (() => Promise<void> | void)[],
) {
  const app = await opsApi.buildApp(
    opsApi.configFromRuntimeInfo(info, {
      ...(settings.consoleDir ? { consoleDir: settings.consoleDir } : {}),
      ...(settings.credentials ? { credentials: settings.credentials } : {}),
    }),
  );
  await app.listen({ port, host: '127.0.0.1' });
  stoppers.push(async () => {
    app.server.closeAllConnections();
    await app.close();
  });
}
