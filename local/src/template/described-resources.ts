import { roleArn } from '../iam/policy-set.ts';
import { IntrinsicResolver, type LocalResourceValue, type ResolveContext } from './intrinsics.ts';
import type { LoadedTemplate } from './local-plan.ts';

/**
 * Resolves resource properties the way the local control-plane APIs describe them (DescribePipe's RoleArn and
 * SourceParameters, GetFunctionConfiguration's Role and Layers): the runtime's own values, plus what the runtime does
 * not create but a description names, the way CloudFormation would have named it:
 * - an `AWS::IAM::Role`'s `Arn` is `arn:aws:iam::ACCOUNT:role/PATH/NAME`, its name `RoleName` or, without one, the
 *   logical id (the same ARN the local IAM evaluator gives the role, iam/policies.ts);
 * - an `AWS::Logs::LogGroup`'s `Arn` is `arn:aws:logs:REGION:ACCOUNT:log-group:NAME:*`, its name `LogGroupName` or
 *   the logical id;
 * - `Fn::FindInMap` is read from the template's `Mappings` (CDK writes the Lambda Insights layer ARN as one).
 * A property that still cannot be resolved is left out of the description rather than failing it (`tryResolve`).
 */
/**
 * The local name of a template's `AWS::Logs::LogGroup`: its `LogGroupName`, or, where CloudFormation would generate
 * one (`<stack>-<logical id>-<suffix>`), the logical id, which a `Ref` to it resolves to locally.
 */
export function localLogGroupName(
  logicalId: string,
  properties: Readonly<Record<string, unknown>> | undefined,
): string {
  const name = properties?.LogGroupName;
  return typeof name === 'string' ? name : logicalId;
}

export class DescribingResolver {
  private readonly resolver: IntrinsicResolver;
  /** The runtime's values plus the roles' and log groups' names above, by logical id. */
  private readonly values: ReadonlyMap<string, LocalResourceValue>;
  private readonly mappings: Readonly<Record<string, Record<string, Record<string, unknown>>>>;

  constructor(
    readonly loaded: LoadedTemplate,
    context: ResolveContext,
  ) {
    const resources = new Map<string, LocalResourceValue>(context.resources);
    for (const [id, resource] of Object.entries(loaded.template.Resources)) {
      if (resources.has(id)) continue;
      const p = resource.Properties ?? {};
      if (resource.Type === 'AWS::IAM::Role') {
        const name = typeof p.RoleName === 'string' ? p.RoleName : id;
        const path = typeof p.Path === 'string' ? p.Path : '/';
        resources.set(id, { ref: name, attributes: { Arn: roleArn(context.account, name, path) } });
      } else if (resource.Type === 'AWS::Logs::LogGroup') {
        // "Fn::GetAtt returns the ARN of the log group, such as arn:aws:logs:us-west-1:123456789012:log-group:NAME:*"
        // (CloudFormation reference, AWS::Logs::LogGroup, Return values).
        const name = localLogGroupName(id, p);
        resources.set(id, {
          ref: name,
          attributes: { Arn: `arn:aws:logs:${context.region}:${context.account}:log-group:${name}:*` },
        });
      }
    }
    this.values = resources;
    this.resolver = new IntrinsicResolver(loaded.template, { ...context, resources });
    this.mappings =
      (loaded.template as { Mappings?: Record<string, Record<string, Record<string, unknown>>> }).Mappings ?? {};
  }

  /** A resource's local value (its `Ref` and attributes), or undefined when the runtime has none for it. */
  localValue(id: string): LocalResourceValue | undefined {
    return this.values.get(id);
  }

  isCreated(id: string): boolean {
    const resource = this.loaded.template.Resources[id];
    return resource !== undefined && this.resolver.isCreated(resource, id);
  }

  /** `value` with every intrinsic resolved; throws what the resolver throws. */
  resolve(value: unknown, where: string): unknown {
    return this.resolver.resolve(this.findInMaps(value, where), where);
  }

  /** `value` resolved, or undefined when it cannot be (an intrinsic the local resolver lacks). */
  tryResolve(value: unknown, where: string): unknown {
    if (value === undefined) return undefined;
    try {
      return this.resolve(value, where);
    } catch {
      return undefined;
    }
  }

  private findInMaps(value: unknown, where: string): unknown {
    if (Array.isArray(value)) return value.map((item, i) => this.findInMaps(item, `${where}[${i}]`));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    if (entries.length === 1 && entries[0]?.[0] === 'Fn::FindInMap') {
      const [map, first, second] = (entries[0][1] as unknown[]).map((part) =>
        String(this.resolver.resolve(this.findInMaps(part, where), where)),
      );
      const found = this.mappings[map ?? '']?.[first ?? '']?.[second ?? ''];
      if (found === undefined) throw new Error(`${where}: Fn::FindInMap ${map}/${first}/${second} is not in Mappings`);
      return found;
    }
    return Object.fromEntries(entries.map(([key, inner]) => [key, this.findInMaps(inner, `${where}.${key}`)]));
  }
}
