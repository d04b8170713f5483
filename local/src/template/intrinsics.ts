import { stableUuid } from '../sns/model.ts';

/**
 * Resolves CloudFormation intrinsic functions to local values: `Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`,
 * `Fn::Select`, `Fn::Split`, `Fn::If` (with `Conditions`), and the pseudo parameters. What a `Ref` or `GetAtt` returns
 * per resource type follows the CloudFormation reference ("Return values" of each type), with local names.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
 */
/**
 * The stack's id as CloudFormation shapes it, `arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/UUID`, with a UUID
 * derived from the region, account and name: the same at every start (DescribeStacks' StackId, `AWS::StackId`).
 */
export function localStackId(region: string, account: string, stackName: string): string {
  return `arn:aws:cloudformation:${region}:${account}:stack/${stackName}/${stableUuid(`stack/${region}/${account}/${stackName}`)}`;
}

export class TemplateResolveError extends Error {
  override readonly name = 'TemplateResolveError';
}

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
  readonly Condition?: string;
  readonly DependsOn?: unknown;
}

export interface CloudFormationTemplate {
  readonly Resources: Record<string, TemplateResource>;
  readonly Parameters?: Record<string, { Default?: unknown }>;
  readonly Conditions?: Record<string, unknown>;
  readonly Outputs?: Record<string, unknown>;
}

/** What a resource resolves to locally: its `Ref` value and its attributes. */
export interface LocalResourceValue {
  readonly ref: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface ResolveContext {
  readonly region: string;
  readonly account: string;
  readonly stackName: string;
  /** Local values of resources; resources not listed resolve to their logical id (`Ref`) or an ARN-like placeholder. */
  readonly resources: ReadonlyMap<string, LocalResourceValue>;
}

const NO_VALUE = Symbol('AWS::NoValue');

export class IntrinsicResolver {
  constructor(
    private readonly template: CloudFormationTemplate,
    private readonly context: ResolveContext,
  ) {}

  /** Resolves every intrinsic in `value`; `where` names the property in error messages. */
  resolve(value: unknown, where: string): unknown {
    const out = this.walk(value, where);
    return out === NO_VALUE ? undefined : out;
  }

  resolveString(value: unknown, where: string): string {
    const out = this.resolve(value, where);
    if (typeof out === 'string') return out;
    if (typeof out === 'number' || typeof out === 'boolean') return String(out);
    throw new TemplateResolveError(`${where} must resolve to a string, got ${JSON.stringify(out)}`);
  }

  private walk(value: unknown, where: string): unknown {
    if (Array.isArray(value)) return value.map((v, i) => this.walk(v, `${where}[${i}]`)).filter((v) => v !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    const [first] = entries;
    if (entries.length === 1 && first && (first[0] === 'Ref' || first[0].startsWith('Fn::')))
      return this.intrinsic(first[0], first[1], where);
    const out: Record<string, unknown> = {};
    for (const [key, inner] of entries) {
      const resolved = this.walk(inner, `${where}.${key}`);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  }

  private intrinsic(name: string, argument: unknown, where: string): unknown {
    switch (name) {
      case 'Ref':
        return this.ref(String(argument), where);
      case 'Fn::GetAtt': {
        const [id, attribute] = Array.isArray(argument) ? argument : String(argument).split(/\.(.*)/s);
        return this.getAtt(String(id), String(attribute), where);
      }
      case 'Fn::Join': {
        const [separator, parts] = argument as [string, unknown];
        const list = this.walk(parts, where);
        if (!Array.isArray(list)) throw new TemplateResolveError(`${where}: Fn::Join needs a list`);
        return list.map((part) => this.asString(part, where)).join(separator);
      }
      case 'Fn::Sub':
        return this.sub(argument, where);
      case 'Fn::Select': {
        const [index, list] = argument as [unknown, unknown];
        const resolved = this.walk(list, where);
        const item = Array.isArray(resolved) ? resolved[Number(this.walk(index, where))] : undefined;
        if (item === undefined) throw new TemplateResolveError(`${where}: Fn::Select index out of range`);
        return item;
      }
      case 'Fn::Split': {
        const [separator, text] = argument as [string, unknown];
        return this.asString(this.walk(text, where), where).split(separator);
      }
      case 'Fn::If': {
        const [condition, whenTrue, whenFalse] = argument as [string, unknown, unknown];
        return this.walk(this.condition(condition, where) ? whenTrue : whenFalse, where);
      }
      case 'Fn::Equals':
      case 'Fn::Not':
      case 'Fn::And':
      case 'Fn::Or':
        return this.evaluateCondition({ [name]: argument }, where);
      case 'Fn::Base64':
        return Buffer.from(this.asString(this.walk(argument, where), where)).toString('base64');
      case 'Fn::GetAZs':
        return [`${this.context.region}a`, `${this.context.region}b`];
      default:
        throw new TemplateResolveError(`${where}: ${name} is not supported by the local runtime`);
    }
  }

  private asString(value: unknown, where: string): string {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
    throw new TemplateResolveError(`${where}: expected a string, got ${JSON.stringify(value)}`);
  }

  private ref(name: string, where: string): unknown {
    const { region, account, stackName } = this.context;
    switch (name) {
      case 'AWS::Region':
        return region;
      case 'AWS::AccountId':
        return account;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return stackName;
      case 'AWS::StackId':
        return localStackId(region, account, stackName);
      case 'AWS::NoValue':
        return NO_VALUE;
      case 'AWS::NotificationARNs':
        return [];
    }
    const parameter = this.template.Parameters?.[name];
    if (parameter) return parameter.Default ?? '';
    if (!this.template.Resources[name])
      throw new TemplateResolveError(`${where}: Ref to unknown resource or parameter '${name}'`);
    return this.context.resources.get(name)?.ref ?? name;
  }

  private getAtt(id: string, attribute: string, where: string): string {
    const resource = this.template.Resources[id];
    if (!resource) throw new TemplateResolveError(`${where}: Fn::GetAtt of unknown resource '${id}'`);
    const local = this.context.resources.get(id)?.attributes[attribute];
    if (local !== undefined) return local;
    if (attribute === 'Arn') {
      const service = resource.Type.split('::')[1]?.toLowerCase() ?? 'local';
      return `arn:aws:${service}:${this.context.region}:${this.context.account}:${id}`;
    }
    return `${id}.${attribute}`;
  }

  private sub(argument: unknown, where: string): string {
    const [text, variables] = Array.isArray(argument)
      ? (argument as [string, Record<string, unknown>])
      : [String(argument), {}];
    return text.replace(/\$\{(!?)([^}]+)\}/g, (_, literal: string, name: string) => {
      if (literal) return `\${${name}}`;
      if (name in variables) return this.asString(this.walk(variables[name], where), where);
      const dot = name.indexOf('.');
      if (dot > 0 && !name.startsWith('AWS::')) return this.getAtt(name.slice(0, dot), name.slice(dot + 1), where);
      return this.asString(this.ref(name, where), where);
    });
  }

  private condition(name: string, where: string): boolean {
    const definition = this.template.Conditions?.[name];
    if (definition === undefined) throw new TemplateResolveError(`${where}: unknown condition '${name}'`);
    return this.evaluateCondition(definition, where);
  }

  private evaluateCondition(definition: unknown, where: string): boolean {
    const [entry] = Object.entries(definition as Record<string, unknown>);
    if (!entry) throw new TemplateResolveError(`${where}: empty condition`);
    const [fn, args] = entry;
    const list = args as unknown[];
    switch (fn) {
      case 'Fn::Equals':
        return JSON.stringify(this.walk(list[0], where)) === JSON.stringify(this.walk(list[1], where));
      case 'Fn::Not':
        return !this.evaluateCondition(list[0], where);
      case 'Fn::And':
        return list.every((c) => this.evaluateCondition(c, where));
      case 'Fn::Or':
        return list.some((c) => this.evaluateCondition(c, where));
      case 'Condition':
        return this.condition(String(args), where);
      default:
        throw new TemplateResolveError(`${where}: condition function ${fn} is not supported`);
    }
  }

  /** Whether a resource's own `Condition` holds (resources whose condition is false are not created). */
  isCreated(resource: TemplateResource, where: string): boolean {
    return resource.Condition === undefined || this.condition(resource.Condition, where);
  }
}
