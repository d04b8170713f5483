import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PatternValidationError, validatePattern } from '@orderflow/pipeline/engine';
import {
  PipeDefinitionError,
  type PipeSourceSettings,
  STACK_NAME,
  validateSourceSettings,
} from '@orderflow/pipeline/facts';
import type { AlarmSpec } from '../cloudwatch/alarms.ts';
import type { Dimension } from '../cloudwatch/metric-store.ts';
import type { MetricDataQuery } from '../cloudwatch/queries.ts';
import type { FunctionSpec } from '../lambda/lambda-service.ts';
import { SQS_EVENT_SOURCE_LIMITS, type SqsEventSourceSettings } from '../lambda/sqs-event-source.ts';
import {
  type KeySpec,
  SUBSCRIPTION_PROTOCOLS,
  type SubscriptionProtocol,
  type SubscriptionSpec,
  stableUuid,
  type TopicSpec,
  topicArn,
} from '../sns/model.ts';
import {
  type CloudFormationTemplate,
  IntrinsicResolver,
  type LocalResourceValue,
  type ResolveContext,
  type TemplateResource,
} from './intrinsics.ts';

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/** Resource types the local runtime creates or runs. */
export const SUPPORTED_TYPES = [
  'AWS::DynamoDB::Table',
  'AWS::SQS::Queue',
  'AWS::Lambda::Function',
  'AWS::Pipes::Pipe',
  'AWS::CloudWatch::Alarm',
  'AWS::CloudWatch::CompositeAlarm',
  'AWS::SNS::Topic',
  'AWS::SNS::Subscription',
  'AWS::SNS::TopicPolicy',
  // A key's policy decides who may publish to the topics it encrypts (SNS Publish, alarm actions).
  'AWS::KMS::Key',
  // The ops toolkit's front (local/src/http-api): the HTTP API with its JWT authorizer, the user pools' tokens, and
  // the console site as CloudFront serves it from the bucket the BucketDeployments fill.
  'AWS::ApiGatewayV2::Api',
  'AWS::ApiGatewayV2::Route',
  'AWS::ApiGatewayV2::Integration',
  'AWS::ApiGatewayV2::Authorizer',
  'AWS::ApiGatewayV2::Stage',
  'AWS::Cognito::UserPool',
  'AWS::Cognito::UserPoolClient',
  'AWS::Cognito::UserPoolGroup',
  'AWS::Cognito::UserPoolDomain',
  'AWS::CloudFront::Distribution',
  'Custom::CDKBucketDeployment',
  // SQS queues of the template as a function's event source (local/src/lambda/sqs-event-source.ts).
  'AWS::Lambda::EventSourceMapping',
] as const;

export interface LoadedTemplate {
  readonly file: string;
  readonly dir: string;
  readonly template: CloudFormationTemplate;
  /** S3 object key of each file asset → its directory in cdk.out. */
  readonly assetDirs: ReadonlyMap<string, string>;
}

export interface TemplateSummary {
  readonly supported: Record<string, number>;
  /** Types with no local effect (IAM, log groups, dashboards, hosting…), with counts. */
  readonly ignored: Record<string, number>;
}

export interface TableSpec {
  readonly logicalId: string;
  readonly name: string;
  readonly keySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
  readonly attributeDefinitions: { AttributeName: string; AttributeType: 'S' | 'N' | 'B' }[];
  readonly globalSecondaryIndexes?: unknown[];
  readonly localSecondaryIndexes?: unknown[];
  readonly streamViewType?: 'NEW_AND_OLD_IMAGES' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'KEYS_ONLY';
  readonly ttlAttribute?: string;
}

export interface QueueSpec {
  readonly logicalId: string;
  readonly name: string;
  /** SQS attributes as strings (what CreateQueue takes). */
  readonly attributes: Record<string, string>;
}

export interface PipeSpec {
  readonly logicalId: string;
  readonly name: string;
  readonly sourceTableId: string;
  readonly targetFunction: string;
  readonly settings: PipeSourceSettings;
  readonly filters: Record<string, unknown>[];
  readonly deadLetterQueueId?: string;
  readonly desiredState: 'RUNNING' | 'STOPPED';
}

/** A function of the template the local runtime cannot run (e.g. a Python custom-resource handler). */
export interface SkippedFunction {
  readonly logicalId: string;
  readonly reason: string;
}

export function loadTemplate(templateDir: string, stackName = STACK_NAME): LoadedTemplate {
  const dir = resolve(templateDir);
  const file = join(dir, `${stackName}.template.json`);
  if (!existsSync(file))
    throw new TemplateError(
      `no synthesized template at ${file}; run \`npm run build -w stack\` (npm start does this for you)`,
    );
  let template: CloudFormationTemplate;
  try {
    template = JSON.parse(readFileSync(file, 'utf8')) as CloudFormationTemplate;
  } catch (error: unknown) {
    throw new TemplateError(`template ${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (
    typeof template !== 'object' ||
    template === null ||
    typeof template.Resources !== 'object' ||
    template.Resources === null
  )
    throw new TemplateError(`template ${file} has no Resources section`);
  for (const [id, resource] of Object.entries(template.Resources))
    if (typeof resource?.Type !== 'string') throw new TemplateError(`template ${file}: resource ${id} has no Type`);
  return { file, dir, template, assetDirs: readAssetManifest(dir, stackName) };
}

function readAssetManifest(dir: string, stackName: string): Map<string, string> {
  const out = new Map<string, string>();
  const file = join(dir, `${stackName}.assets.json`);
  if (!existsSync(file)) return out;
  let manifest: {
    files?: Record<string, { source?: { path?: string }; destinations?: Record<string, { objectKey?: string }> }>;
  };
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error: unknown) {
    throw new TemplateError(`asset manifest ${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  for (const asset of Object.values(manifest.files ?? {})) {
    const path = asset.source?.path;
    if (!path) continue;
    for (const destination of Object.values(asset.destinations ?? {}))
      if (destination.objectKey) out.set(destination.objectKey, join(dir, path));
  }
  return out;
}

export function summarize(loaded: LoadedTemplate): TemplateSummary {
  const supported: Record<string, number> = {};
  const ignored: Record<string, number> = {};
  for (const resource of Object.values(loaded.template.Resources)) {
    const bucket = (SUPPORTED_TYPES as readonly string[]).includes(resource.Type) ? supported : ignored;
    bucket[resource.Type] = (bucket[resource.Type] ?? 0) + 1;
  }
  return { supported, ignored };
}

function resourcesOf(loaded: LoadedTemplate, type: string): [string, TemplateResource][] {
  return Object.entries(loaded.template.Resources).filter(([, r]) => r.Type === type);
}

function props(resource: TemplateResource): Record<string, unknown> {
  return resource.Properties ?? {};
}

/** Names known before anything runs: explicit physical names, else the logical id. */
function staticResolver(loaded: LoadedTemplate, context: Omit<ResolveContext, 'resources'>): IntrinsicResolver {
  return new IntrinsicResolver(loaded.template, { ...context, resources: new Map() });
}

function physicalName(resolver: IntrinsicResolver, id: string, value: unknown, where: string): string {
  return value === undefined ? id : resolver.resolveString(value, where);
}

export function tableSpecs(loaded: LoadedTemplate, context: Omit<ResolveContext, 'resources'>): TableSpec[] {
  const resolver = staticResolver(loaded, context);
  return resourcesOf(loaded, 'AWS::DynamoDB::Table')
    .filter(([id, r]) => resolver.isCreated(r, id))
    .map(([id, resource]) => {
      const p = resolver.resolve(props(resource), id) as Record<string, unknown>;
      const stream = p.StreamSpecification as { StreamViewType?: TableSpec['streamViewType'] } | undefined;
      const ttl = p.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
      if (!Array.isArray(p.KeySchema)) throw new TemplateError(`table ${id} has no KeySchema`);
      return {
        logicalId: id,
        name: physicalName(resolver, id, props(resource).TableName, `${id}.TableName`),
        keySchema: p.KeySchema as TableSpec['keySchema'],
        attributeDefinitions: (p.AttributeDefinitions as TableSpec['attributeDefinitions']) ?? [],
        ...(Array.isArray(p.GlobalSecondaryIndexes) ? { globalSecondaryIndexes: p.GlobalSecondaryIndexes } : {}),
        ...(Array.isArray(p.LocalSecondaryIndexes) ? { localSecondaryIndexes: p.LocalSecondaryIndexes } : {}),
        ...(stream?.StreamViewType ? { streamViewType: stream.StreamViewType } : {}),
        ...(ttl?.Enabled && ttl.AttributeName ? { ttlAttribute: ttl.AttributeName } : {}),
      };
    });
}

/** Queue properties that map to CreateQueue attributes; the rest (tags, encryption) has no local effect. */
const QUEUE_ATTRIBUTES = [
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'FifoQueue',
  'ContentBasedDeduplication',
  'RedrivePolicy',
] as const;

export function queueSpecs(loaded: LoadedTemplate, context: Omit<ResolveContext, 'resources'>): QueueSpec[] {
  const resolver = staticResolver(loaded, context);
  const specs = resourcesOf(loaded, 'AWS::SQS::Queue')
    .filter(([id, r]) => resolver.isCreated(r, id))
    .map(([id, resource]) => ({
      id,
      resource,
      name: physicalName(resolver, id, props(resource).QueueName, `${id}.QueueName`),
    }));
  // A queue ARN is known from its name (`arn:aws:sqs:REGION:ACCOUNT:NAME`), which a RedrivePolicy refers to.
  const resources = new Map(
    specs.map(({ id, name }) => [
      id,
      { ref: name, attributes: { Arn: `arn:aws:sqs:${context.region}:${context.account}:${name}`, QueueName: name } },
    ]),
  );
  const withArns = new IntrinsicResolver(loaded.template, { ...context, resources });
  return specs.map(({ id, resource, name }) => {
    const attributes: Record<string, string> = {};
    for (const key of QUEUE_ATTRIBUTES) {
      const value = props(resource)[key];
      if (value === undefined) continue;
      const resolved = withArns.resolve(value, `${id}.${key}`);
      attributes[key] = typeof resolved === 'object' ? JSON.stringify(resolved) : String(resolved);
    }
    return { logicalId: id, name, attributes };
  });
}

export function functionSpecs(
  loaded: LoadedTemplate,
  context: ResolveContext,
): { functions: (FunctionSpec & { logicalId: string })[]; skipped: SkippedFunction[] } {
  const resolver = new IntrinsicResolver(loaded.template, context);
  const functions: (FunctionSpec & { logicalId: string })[] = [];
  const skipped: SkippedFunction[] = [];
  for (const [id, resource] of resourcesOf(loaded, 'AWS::Lambda::Function')) {
    if (!resolver.isCreated(resource, id)) continue;
    const p = props(resource);
    const runtime = String(p.Runtime ?? '');
    if (!runtime.startsWith('nodejs')) {
      skipped.push({ logicalId: id, reason: `runtime ${runtime || 'unknown'} (only Node.js functions run locally)` });
      continue;
    }
    const code = p.Code as { S3Key?: unknown; ZipFile?: unknown } | undefined;
    if (code?.ZipFile !== undefined) {
      skipped.push({ logicalId: id, reason: 'inline ZipFile code (CDK provider functions have no local role)' });
      continue;
    }
    const key = code?.S3Key === undefined ? undefined : resolver.resolveString(code.S3Key, `${id}.Code.S3Key`);
    const metadataPath = resource.Metadata?.['aws:asset:path'];
    const codeDir =
      (key ? loaded.assetDirs.get(key) : undefined) ??
      (typeof metadataPath === 'string' ? join(loaded.dir, metadataPath) : undefined);
    if (!codeDir || !existsSync(codeDir) || !statSync(codeDir).isDirectory())
      throw new TemplateError(
        `function ${id}: its code asset ${codeDir ?? key ?? '(none)'} is missing from ${loaded.dir}; run \`npm run build -w stack\` again`,
      );
    const variables = (resolver.resolve(
      (p.Environment as { Variables?: unknown } | undefined)?.Variables ?? {},
      `${id}.Environment`,
    ) ?? {}) as Record<string, unknown>;
    const reserved = p.ReservedConcurrentExecutions;
    // AWS::Lambda::EventInvokeConfig of the function's $LATEST (or unqualified): its asynchronous retry settings.
    const eventConfig = resourcesOf(loaded, 'AWS::Lambda::EventInvokeConfig')
      .map(([configId, config]) => ({ configId, config: props(config) }))
      .find(
        ({ config }) =>
          (config.FunctionName as { Ref?: unknown } | undefined)?.Ref === id &&
          (config.Qualifier === undefined || config.Qualifier === '$LATEST'),
      )?.config;
    functions.push({
      logicalId: id,
      name: context.resources.get(id)?.ref ?? id,
      codeDir,
      handler: String(p.Handler ?? 'index.handler'),
      // Lambda's defaults: 3 seconds, 128 MB.
      timeoutSeconds: Number(p.Timeout ?? 3),
      memoryMb: Number(p.MemorySize ?? 128),
      environment: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(v)])),
      ...(reserved === undefined ? {} : { reservedConcurrency: Number(reserved) }),
      ...(eventConfig
        ? {
            asyncInvoke: {
              ...(eventConfig.MaximumRetryAttempts === undefined
                ? {}
                : { maximumRetryAttempts: Number(eventConfig.MaximumRetryAttempts) }),
              ...(eventConfig.MaximumEventAgeInSeconds === undefined
                ? {}
                : { maximumEventAgeSeconds: Number(eventConfig.MaximumEventAgeInSeconds) }),
            },
          }
        : {}),
    });
  }
  return { functions, skipped };
}

/** The logical id an ARN-valued property points at, when it is a plain `Fn::GetAtt [id, attribute]`. */
function getAttTarget(value: unknown): string | undefined {
  const getAtt = (value as { 'Fn::GetAtt'?: unknown } | undefined)?.['Fn::GetAtt'];
  if (Array.isArray(getAtt)) return String(getAtt[0]);
  if (typeof getAtt === 'string') return getAtt.split('.')[0];
  return undefined;
}

export function pipeSpecs(loaded: LoadedTemplate, context: ResolveContext): PipeSpec[] {
  const resolver = new IntrinsicResolver(loaded.template, context);
  return resourcesOf(loaded, 'AWS::Pipes::Pipe')
    .filter(([id, r]) => resolver.isCreated(r, id))
    .map(([id, resource]) => {
      const raw = props(resource);
      const p = resolver.resolve(raw, id) as Record<string, unknown>;
      const sourceTableId = getAttTarget(raw.Source);
      if (!sourceTableId || loaded.template.Resources[sourceTableId]?.Type !== 'AWS::DynamoDB::Table')
        throw new TemplateError(`pipe ${id}: Source must be a DynamoDB table's StreamArn (Fn::GetAtt) to run locally`);
      const targetArn = String(p.Target ?? '');
      if (!targetArn.includes(':function:'))
        throw new TemplateError(
          `pipe ${id}: Target ${targetArn} is not a Lambda function; only Lambda targets run locally`,
        );
      const source = (p.SourceParameters ?? {}) as {
        DynamoDBStreamParameters?: Record<string, unknown>;
        FilterCriteria?: { Filters?: { Pattern?: string }[] };
      };
      const stream = source.DynamoDBStreamParameters ?? {};
      if (stream.StartingPosition !== 'TRIM_HORIZON' && stream.StartingPosition !== 'LATEST')
        throw new TemplateError(
          `pipe ${id}: StartingPosition must be TRIM_HORIZON or LATEST, got ${String(stream.StartingPosition)}`,
        );
      const deadLetterSource = (
        raw.SourceParameters as { DynamoDBStreamParameters?: { DeadLetterConfig?: { Arn?: unknown } } } | undefined
      )?.DynamoDBStreamParameters?.DeadLetterConfig?.Arn;
      const deadLetterQueueId = getAttTarget(deadLetterSource);
      const filters = (source.FilterCriteria?.Filters ?? []).map((filter, i) => {
        let pattern: Record<string, unknown>;
        try {
          pattern = JSON.parse(String(filter.Pattern)) as Record<string, unknown>;
        } catch (error: unknown) {
          throw new TemplateError(`pipe ${id}: FilterCriteria.Filters[${i}].Pattern is not JSON`, { cause: error });
        }
        // What CreatePipe would refuse does not run locally either: an operator Pipes lacks, or a field the Pipes
        // poller adds (eventName…), which a Pipes filter cannot use.
        try {
          validatePattern(pattern, 'pipes');
        } catch (error: unknown) {
          if (error instanceof PatternValidationError)
            throw new TemplateError(`pipe ${id}: FilterCriteria.Filters[${i}].Pattern: ${error.message}`, {
              cause: error,
            });
          throw error;
        }
        return pattern;
      });
      const number = (key: string, fallback: number) => (stream[key] === undefined ? fallback : Number(stream[key]));
      // Defaults from the PipeSourceDynamoDBStreamParameters reference.
      const settings: PipeSourceSettings = {
        batchSize: number('BatchSize', 100),
        maximumBatchingWindowInSeconds: number('MaximumBatchingWindowInSeconds', 0),
        maximumRetryAttempts: number('MaximumRetryAttempts', -1),
        maximumRecordAgeInSeconds: number('MaximumRecordAgeInSeconds', -1),
        onPartialBatchItemFailure:
          stream.OnPartialBatchItemFailure === 'AUTOMATIC_BISECT' ? 'AUTOMATIC_BISECT' : undefined,
        parallelizationFactor: number('ParallelizationFactor', 1),
        startingPosition: stream.StartingPosition,
      };
      // AWS's ranges, as the stack checks them at synth: a template CreatePipe would refuse does not run locally.
      try {
        validateSourceSettings(id, settings);
      } catch (error: unknown) {
        if (error instanceof PipeDefinitionError) throw new TemplateError(error.message, { cause: error });
        throw error;
      }
      return {
        logicalId: id,
        name: typeof p.Name === 'string' ? p.Name : id,
        sourceTableId,
        targetFunction: targetArn.split(':function:')[1]?.split(':')[0] ?? targetArn,
        settings,
        filters,
        ...(deadLetterQueueId ? { deadLetterQueueId } : {}),
        desiredState: p.DesiredState === 'STOPPED' ? 'STOPPED' : 'RUNNING',
      };
    });
}

type RawMetric = { Namespace: string; MetricName: string; Dimensions?: Dimension[] };

export function alarmSpecs(loaded: LoadedTemplate, context: ResolveContext): AlarmSpec[] {
  const resolver = new IntrinsicResolver(loaded.template, context);
  const specs: AlarmSpec[] = [];
  for (const [id, resource] of Object.entries(loaded.template.Resources)) {
    if (resource.Type !== 'AWS::CloudWatch::Alarm' && resource.Type !== 'AWS::CloudWatch::CompositeAlarm') continue;
    if (!resolver.isCreated(resource, id)) continue;
    const p = resolver.resolve(props(resource), id) as Record<string, unknown>;
    const name = context.resources.get(id)?.ref ?? id;
    const common = {
      name,
      ...(typeof p.AlarmDescription === 'string' ? { description: p.AlarmDescription } : {}),
      actionsEnabled: p.ActionsEnabled !== false,
      actions: {
        ALARM: actionList(p.AlarmActions, `${id}.AlarmActions`),
        OK: actionList(p.OKActions, `${id}.OKActions`),
        INSUFFICIENT_DATA: actionList(p.InsufficientDataActions, `${id}.InsufficientDataActions`),
      },
    };
    if (resource.Type === 'AWS::CloudWatch::CompositeAlarm') {
      specs.push({ kind: 'composite', ...common, rule: String(p.AlarmRule) });
      continue;
    }
    const period = Number(
      p.Period ??
        (p.Metrics as { MetricStat?: { Period?: number } }[] | undefined)?.find((m) => m.MetricStat)?.MetricStat
          ?.Period ??
        60,
    );
    const stat = (p.ExtendedStatistic ?? p.Statistic) as string | undefined;
    let queries: MetricDataQuery[];
    let single: (RawMetric & { Statistic?: string; ExtendedStatistic?: string; Dimensions: Dimension[] }) | undefined;
    if (Array.isArray(p.Metrics)) queries = p.Metrics as MetricDataQuery[];
    else {
      if (!p.Namespace || !p.MetricName || !stat)
        throw new TemplateError(`alarm ${id} has neither Metrics nor Namespace/MetricName/Statistic`);
      const metric: RawMetric = {
        Namespace: String(p.Namespace),
        MetricName: String(p.MetricName),
        Dimensions: (p.Dimensions as Dimension[] | undefined) ?? [],
      };
      queries = [{ Id: 'm1', MetricStat: { Metric: metric, Period: period, Stat: stat }, ReturnData: true }];
      single = {
        ...metric,
        Dimensions: metric.Dimensions ?? [],
        ...(p.ExtendedStatistic
          ? { ExtendedStatistic: String(p.ExtendedStatistic) }
          : { Statistic: String(p.Statistic) }),
      };
    }
    specs.push({
      kind: 'metric',
      ...common,
      queries,
      ...(single ? { single } : {}),
      period,
      evaluationPeriods: Number(p.EvaluationPeriods),
      datapointsToAlarm: Number(p.DatapointsToAlarm ?? p.EvaluationPeriods),
      datapointsToAlarmSet: p.DatapointsToAlarm !== undefined,
      threshold: Number(p.Threshold),
      comparison: String(p.ComparisonOperator),
      treatMissingData: String(p.TreatMissingData ?? 'missing'),
      ...(typeof p.Unit === 'string' ? { unit: p.Unit } : {}),
    });
  }
  return specs;
}

/** An alarm's action list: ARNs (a topic's `Ref` resolves to its ARN). */
function actionList(value: unknown, where: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((arn) => typeof arn !== 'string'))
    throw new TemplateError(`${where} must be a list of ARNs, got ${JSON.stringify(value)}`);
  return value as string[];
}

export function keySpecs(loaded: LoadedTemplate, context: Omit<ResolveContext, 'resources'>): KeySpec[] {
  const resolver = staticResolver(loaded, context);
  return resourcesOf(loaded, 'AWS::KMS::Key')
    .filter(([id, r]) => resolver.isCreated(r, id))
    .map(([id, resource]) => {
      // The key id is the logical id (as `iam/policies.ts` names keys), so ARNs are stable across starts.
      const keyId = id;
      const enabled = props(resource).Enabled;
      return {
        logicalId: id,
        keyId,
        arn: `arn:aws:kms:${context.region}:${context.account}:key/${keyId}`,
        enabled: enabled !== false && enabled !== 'false',
      };
    });
}

/** Names and ARNs of the template's topics, known before anything runs (a topic's `Ref` is its ARN). */
export function topicNames(
  loaded: LoadedTemplate,
  context: Omit<ResolveContext, 'resources'>,
): Map<string, { name: string; arn: string }> {
  const resolver = staticResolver(loaded, context);
  const out = new Map<string, { name: string; arn: string }>();
  for (const [id, resource] of resourcesOf(loaded, 'AWS::SNS::Topic')) {
    if (!resolver.isCreated(resource, id)) continue;
    const p = props(resource);
    const fifo = p.FifoTopic === true || p.FifoTopic === 'true';
    let name = physicalName(resolver, id, p.TopicName, `${id}.TopicName`);
    if (p.TopicName === undefined && fifo) name = `${name}.fifo`;
    if (fifo !== name.endsWith('.fifo'))
      throw new TemplateError(
        `topic ${id}: a FIFO topic's name ends with .fifo and only a FIFO topic's does (TopicName ${name}, FifoTopic ${fifo})`,
      );
    out.set(id, { name, arn: topicArn(context.region, context.account, name) });
  }
  return out;
}

/**
 * The local values of the template's topics (`Ref` = the ARN; TopicArn, TopicName) and KMS keys (`Ref` = the key id;
 * Arn, KeyId), for the resolve context: alarm actions, topic policies and key references resolve through them.
 */
export function topicAndKeyResources(
  loaded: LoadedTemplate,
  context: Omit<ResolveContext, 'resources'>,
): Map<string, LocalResourceValue> {
  const out = new Map<string, LocalResourceValue>();
  for (const [id, { name, arn }] of topicNames(loaded, context))
    out.set(id, { ref: arn, attributes: { TopicArn: arn, TopicName: name } });
  for (const key of keySpecs(loaded, context))
    out.set(key.logicalId, { ref: key.keyId, attributes: { Arn: key.arn, KeyId: key.keyId } });
  return out;
}

/** The template's topics, with their policy (AWS::SNS::TopicPolicy) and encryption key. */
export function topicSpecs(loaded: LoadedTemplate, context: ResolveContext): TopicSpec[] {
  const resolver = new IntrinsicResolver(loaded.template, context);
  const names = topicNames(loaded, context);
  const policies = new Map<string, { logicalId: string; document: unknown }>();
  for (const [id, resource] of resourcesOf(loaded, 'AWS::SNS::TopicPolicy')) {
    if (!resolver.isCreated(resource, id)) continue;
    const p = resolver.resolve(props(resource), id) as { PolicyDocument?: unknown; Topics?: unknown };
    if (!Array.isArray(p.Topics) || p.Topics.length === 0) throw new TemplateError(`topic policy ${id} has no Topics`);
    for (const arn of p.Topics) policies.set(String(arn), { logicalId: id, document: p.PolicyDocument });
  }
  return [...names].map(([id, { name, arn }]) => {
    const resource = loaded.template.Resources[id] as TemplateResource;
    const p = resolver.resolve(props(resource), id) as Record<string, unknown>;
    const signatureVersion = String(p.SignatureVersion ?? '1');
    if (signatureVersion !== '1' && signatureVersion !== '2')
      throw new TemplateError(`topic ${id}: SignatureVersion must be 1 or 2, got ${signatureVersion}`);
    const policy = policies.get(arn);
    return {
      logicalId: id,
      name,
      arn,
      ...(typeof p.DisplayName === 'string' && p.DisplayName !== '' ? { displayName: p.DisplayName } : {}),
      ...(typeof p.KmsMasterKeyId === 'string' && p.KmsMasterKeyId !== '' ? { kmsMasterKeyId: p.KmsMasterKeyId } : {}),
      fifo: name.endsWith('.fifo'),
      contentBasedDeduplication: p.ContentBasedDeduplication === true || p.ContentBasedDeduplication === 'true',
      signatureVersion,
      ...(policy ? { policy } : {}),
    };
  });
}

/**
 * The template's subscriptions: AWS::SNS::Subscription resources and topics' `Subscription` entries. A protocol the
 * runtime does not deliver, or a filter policy (not evaluated locally), is refused naming the subscription, rather
 * than delivering what AWS would not.
 */
export function subscriptionSpecs(loaded: LoadedTemplate, context: ResolveContext): SubscriptionSpec[] {
  const resolver = new IntrinsicResolver(loaded.template, context);
  const topics = topicNames(loaded, context);
  const specs: SubscriptionSpec[] = [];
  const add = (id: string, topic: string, raw: Record<string, unknown>) => {
    const protocol = String(raw.Protocol ?? '');
    if (!(SUBSCRIPTION_PROTOCOLS as readonly string[]).includes(protocol))
      throw new TemplateError(
        `subscription ${id}: protocol ${protocol || '(none)'} is not delivered locally (${SUBSCRIPTION_PROTOCOLS.join(', ')})`,
      );
    if (raw.FilterPolicy !== undefined)
      throw new TemplateError(`subscription ${id}: FilterPolicy is not evaluated locally; remove it to run locally`);
    if (typeof raw.Endpoint !== 'string' || raw.Endpoint === '')
      throw new TemplateError(`subscription ${id} has no Endpoint`);
    if (![...topics.values()].some((t) => t.arn === topic))
      throw new TemplateError(`subscription ${id}: TopicArn ${topic} is not a topic of the template`);
    specs.push({
      logicalId: id,
      arn: `${topic}:${stableUuid(`subscription:${context.stackName}/${id}`)}`,
      topicArn: topic,
      protocol: protocol as SubscriptionProtocol,
      endpoint: raw.Endpoint,
      rawMessageDelivery: raw.RawMessageDelivery === true || raw.RawMessageDelivery === 'true',
    });
  };
  for (const [id, { arn }] of topics) {
    const inline = (loaded.template.Resources[id] as TemplateResource).Properties?.Subscription;
    if (inline === undefined) continue;
    const list = resolver.resolve(inline, `${id}.Subscription`);
    if (!Array.isArray(list)) throw new TemplateError(`topic ${id}: Subscription must be a list`);
    list.forEach((entry, i) => {
      add(`${id}.Subscription.${i}`, arn, entry as Record<string, unknown>);
    });
  }
  for (const [id, resource] of resourcesOf(loaded, 'AWS::SNS::Subscription')) {
    if (!resolver.isCreated(resource, id)) continue;
    const p = resolver.resolve(props(resource), id) as Record<string, unknown>;
    add(id, String(p.TopicArn ?? ''), p);
  }
  return specs;
}

/** Physical names of one resource type (FunctionName, Name, AlarmName… when set, else the logical id). */
export function namedResources(
  loaded: LoadedTemplate,
  context: Omit<ResolveContext, 'resources'>,
  type: string,
  property: string,
) {
  const resolver = staticResolver(loaded, context);
  return new Map(
    resourcesOf(loaded, type).map(([id, resource]) => [
      id,
      physicalName(resolver, id, props(resource)[property], `${id}.${property}`),
    ]),
  );
}

/** An AWS::Lambda::EventSourceMapping of the template whose source is one of its SQS queues. */
export interface SqsEventSourceMappingSpec {
  readonly logicalId: string;
  readonly queueLogicalId: string;
  readonly queueArn: string;
  readonly functionLogicalId: string;
  readonly functionName: string;
  /** The function's Timeout (Lambda's default 3 s), for the effective visibility timeout under a batching window. */
  readonly functionTimeoutSeconds: number;
  readonly settings: SqsEventSourceSettings;
}

/** Properties an SQS event source mapping runs with locally; KmsKeyArn (filter encryption) and Tags have no local effect. */
const SQS_MAPPING_PROPERTIES = new Set([
  'FunctionName',
  'EventSourceArn',
  'BatchSize',
  'MaximumBatchingWindowInSeconds',
  'ScalingConfig',
  'FunctionResponseTypes',
  'Enabled',
  'FilterCriteria',
  'KmsKeyArn',
  'Tags',
]);

/** Properties CreateEventSourceMapping documents for stream, Kafka, MQ or DocumentDB sources only. */
const NOT_FOR_SQS = new Set([
  'BisectBatchOnFunctionError',
  'DestinationConfig',
  'MaximumRecordAgeInSeconds',
  'MaximumRetryAttempts',
  'ParallelizationFactor',
  'StartingPosition',
  'StartingPositionTimestamp',
  'TumblingWindowInSeconds',
  'Topics',
  'Queues',
  'SourceAccessConfigurations',
  'SelfManagedEventSource',
  'SelfManagedKafkaEventSourceConfig',
  'AmazonManagedKafkaEventSourceConfig',
  'DocumentDBEventSourceConfig',
]);

const truthy = (value: unknown) => value === true || value === 'true';

/**
 * The template's event source mappings, each checked as CreateEventSourceMapping checks an SQS mapping (Lambda API
 * reference, CreateEventSourceMapping; CloudFormation, AWS::Lambda::EventSourceMapping; Lambda developer guide, "Using
 * Lambda with Amazon SQS" and "Using event filtering with an Amazon SQS event source"). What Lambda would refuse, and
 * what the local runtime does not emulate (a Kinesis, DynamoDB, Kafka or MQ source, a FIFO queue, a queue or function
 * outside the template, a version or alias, provisioned pollers, metrics config), is refused naming the mapping and
 * the property, rather than run differently. Needs the queues' and functions' local values in `context`.
 */
export function sqsEventSourceMappingSpecs(
  loaded: LoadedTemplate,
  context: ResolveContext,
): SqsEventSourceMappingSpec[] {
  const resolver = new IntrinsicResolver(loaded.template, context);
  const resources = loaded.template.Resources;
  const ofType = (type: string) =>
    Object.entries(resources)
      .filter(([id, r]) => r.Type === type && resolver.isCreated(r, id))
      .map(([id]) => id);
  const queues = ofType('AWS::SQS::Queue');
  const functions = ofType('AWS::Lambda::Function');
  return resourcesOf(loaded, 'AWS::Lambda::EventSourceMapping')
    .filter(([id, r]) => resolver.isCreated(r, id))
    .map(([id, resource]) => {
      const fail = (message: string): never => {
        throw new TemplateError(`event source mapping ${id}: ${message}`);
      };
      const raw = props(resource);
      for (const key of Object.keys(raw)) {
        if (SQS_MAPPING_PROPERTIES.has(key)) continue;
        if (NOT_FOR_SQS.has(key))
          fail(`${key} applies to stream, Kafka, MQ or DocumentDB sources, not to an SQS queue; remove it`);
        fail(`${key} is not emulated locally for an SQS event source mapping`);
      }
      const p = resolver.resolve(raw, id) as Record<string, unknown>;

      const sourceArn = typeof p.EventSourceArn === 'string' ? p.EventSourceArn : undefined;
      if (!sourceArn) fail('EventSourceArn is missing; only Amazon SQS queue sources run locally');
      const service = String(sourceArn).split(':')[2];
      if (service !== 'sqs')
        fail(
          `EventSourceArn ${sourceArn} is a ${service ?? 'non-AWS'} source; only Amazon SQS queues of the template run locally (Kinesis, DynamoDB Streams, Kafka, MQ and DocumentDB mappings are not emulated)`,
        );
      const queueLogicalId = queues.find((q) => context.resources.get(q)?.attributes.Arn === sourceArn);
      if (!queueLogicalId) fail(`EventSourceArn ${sourceArn} is not a queue of the template`);
      const queueId = queueLogicalId as string;
      const queue = resolver.resolve(props(resources[queueId] as TemplateResource), queueId) as Record<string, unknown>;
      if (truthy(queue.FifoQueue) || String(sourceArn).endsWith('.fifo'))
        fail(`queue ${queueId} is a FIFO queue; FIFO sources (message groups, batch size 10) are not emulated locally`);

      const functionRef = typeof p.FunctionName === 'string' ? p.FunctionName : undefined;
      if (!functionRef) fail('FunctionName is missing');
      const parts = String(functionRef).split(':');
      const at = parts.indexOf('function');
      const [functionName = '', qualifier] = at >= 0 ? parts.slice(at + 1) : parts;
      if (qualifier !== undefined && qualifier !== '$LATEST')
        fail(`FunctionName ${functionRef} names a version or alias (${qualifier}); only $LATEST runs locally`);
      const functionLogicalId = functions.find((f) => (context.resources.get(f)?.ref ?? f) === functionName);
      if (!functionLogicalId) fail(`FunctionName ${functionRef} is not a function of the template`);
      // Only the function's Timeout is needed here; resolving all its properties would meet intrinsics the runtime
      // does not resolve (the Lambda Insights layer's Fn::FindInMap of the stack's functions).
      const timeout = props(resources[functionLogicalId as string] as TemplateResource).Timeout;
      const fn = {
        Timeout: timeout === undefined ? undefined : resolver.resolve(timeout, `${functionLogicalId}.Timeout`),
      };

      const limits = SQS_EVENT_SOURCE_LIMITS;
      const integer = (key: string, value: unknown, fallback: number, min: number, max: number): number => {
        if (value === undefined) return fallback;
        const n = Number(value);
        if (!Number.isInteger(n) || n < min || n > max)
          fail(`${key} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
        return n;
      };
      const batchSize = integer('BatchSize', p.BatchSize, limits.defaultBatchSize, 1, limits.maxBatchSize);
      const maximumBatchingWindowInSeconds = integer(
        'MaximumBatchingWindowInSeconds',
        p.MaximumBatchingWindowInSeconds,
        0,
        0,
        limits.maxBatchingWindowSeconds,
      );
      // "For streams and Amazon SQS event sources, when you set BatchSize to a value greater than 10, you must set
      // MaximumBatchingWindowInSeconds to at least 1."
      if (batchSize > limits.batchSizeWithoutWindow && maximumBatchingWindowInSeconds < 1)
        fail(
          `BatchSize ${batchSize}: Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than ${limits.batchSizeWithoutWindow} (set MaximumBatchingWindowInSeconds)`,
        );
      const scaling = p.ScalingConfig as { MaximumConcurrency?: unknown } | undefined;
      const maximumConcurrency =
        scaling?.MaximumConcurrency === undefined
          ? undefined
          : integer(
              'ScalingConfig.MaximumConcurrency',
              scaling.MaximumConcurrency,
              0,
              limits.minMaximumConcurrency,
              limits.maxMaximumConcurrency,
            );
      const responseTypes = p.FunctionResponseTypes ?? [];
      if (
        !Array.isArray(responseTypes) ||
        responseTypes.length > 1 ||
        responseTypes.some((t) => t !== 'ReportBatchItemFailures')
      )
        fail(`FunctionResponseTypes must be [] or ["ReportBatchItemFailures"], got ${JSON.stringify(responseTypes)}`);

      const criteria = p.FilterCriteria as { Filters?: unknown } | undefined;
      const rawFilters = criteria?.Filters ?? [];
      if (!Array.isArray(rawFilters)) fail('FilterCriteria.Filters must be a list');
      if ((rawFilters as unknown[]).length > limits.maxFilters)
        fail(
          `FilterCriteria has ${(rawFilters as unknown[]).length} filters; an event source mapping takes at most ${limits.maxFilters} (Lambda's default quota)`,
        );
      const filters = (rawFilters as { Pattern?: unknown }[]).map((filter, i) => {
        const where = `FilterCriteria.Filters[${i}].Pattern`;
        const text = filter?.Pattern;
        if (typeof text !== 'string') fail(`${where} must be a string`);
        if ((text as string).length > limits.maxPatternLength)
          fail(`${where} is ${(text as string).length} characters long; at most ${limits.maxPatternLength}`);
        let pattern: unknown;
        try {
          pattern = JSON.parse(text as string);
        } catch (error: unknown) {
          throw new TemplateError(`event source mapping ${id}: ${where} is not JSON`, { cause: error });
        }
        if (typeof pattern !== 'object' || pattern === null || Array.isArray(pattern))
          fail(`${where} must be a JSON object`);
        // "Amazon SQS event source mappings only support filtering on the body key."
        const others = Object.keys(pattern as object).filter((key) => key !== 'body');
        if (others.length > 0)
          fail(
            `${where} filters on ${others.join(', ')}; SQS event source mappings only support filtering on the body key`,
          );
        try {
          validatePattern(pattern, 'eventbridge');
        } catch (error: unknown) {
          if (error instanceof PatternValidationError)
            throw new TemplateError(`event source mapping ${id}: ${where}: ${error.message}`, { cause: error });
          throw error;
        }
        return pattern as Record<string, unknown>;
      });

      // CreateEventSourceMapping refuses a queue that would show a message again before the function could finish.
      const visibility = Number(queue.VisibilityTimeout ?? 30);
      const functionTimeoutSeconds = Number(fn.Timeout ?? 3);
      if (visibility < functionTimeoutSeconds)
        fail(
          `Queue visibility timeout: ${visibility} seconds is less than Function timeout: ${functionTimeoutSeconds} seconds (queue ${queueId}, function ${functionLogicalId})`,
        );

      return {
        logicalId: id,
        queueLogicalId: queueId,
        queueArn: String(sourceArn),
        functionLogicalId: functionLogicalId as string,
        functionName,
        functionTimeoutSeconds,
        settings: {
          batchSize,
          maximumBatchingWindowInSeconds,
          ...(maximumConcurrency === undefined ? {} : { maximumConcurrency }),
          reportBatchItemFailures: (responseTypes as unknown[]).length === 1,
          filters,
          enabled: p.Enabled === undefined || truthy(p.Enabled),
        },
      };
    });
}
