import { dashboardName } from '../cloudwatch/dashboards.ts';
import { eventSourceMappingUuid } from '../lambda/sqs-event-source.ts';
import { DescribingResolver } from '../template/described-resources.ts';
import { IntrinsicResolver, localStackId, type ResolveContext } from '../template/intrinsics.ts';
import type { LoadedTemplate } from '../template/local-plan.ts';

/**
 * The one stack the local runtime runs, as CloudFormation's read API describes it (DescribeStacks,
 * DescribeStackResource(s), ListStackResources): read from the template the runtime started from, every value the
 * runtime's own (the local table names, queue URLs, topic ARNs, the event source mappings' UUIDs). A value the
 * runtime does not have is left out, never made up: an output that cannot be resolved is listed in `unresolved`
 * (printed at start), a resource the runtime does not create has no PhysicalResourceId and says why.
 */
export interface StackOutput {
  readonly OutputKey: string;
  readonly OutputValue: string;
  readonly Description?: string;
  readonly ExportName?: string;
}

export interface StackResourceView {
  readonly logicalId: string;
  readonly type: string;
  /** What CloudFormation reports as PhysicalResourceId (the resource's `Ref`), or undefined when nothing runs locally. */
  readonly physicalId: string | undefined;
  /** Why a resource has no physical id locally (ResourceStatusReason). */
  readonly reason?: string;
}

export interface LocalStack {
  readonly name: string;
  readonly id: string;
  readonly arnPrefix: string;
  readonly description?: string;
  /** When the runtime started (CreationTime, every resource's LastUpdatedTimestamp). */
  readonly created: Date;
  readonly parameters: readonly { ParameterKey: string; ParameterValue: string }[];
  readonly outputs: readonly StackOutput[];
  /** Outputs left out, each with the reason (an attribute the local runtime does not have). */
  readonly unresolved: readonly { key: string; reason: string }[];
  /** In the template's order; resources whose Condition is false are not in the stack, as in CloudFormation. */
  readonly resources: readonly StackResourceView[];
}

interface OutputDefinition {
  readonly Value?: unknown;
  readonly Description?: unknown;
  readonly Condition?: string;
  readonly Export?: { Name?: unknown };
}

/**
 * The resources an intrinsic refers to: `Ref` (resources only; pseudo parameters and parameters always resolve),
 * `Fn::GetAtt` and the `${Id}` / `${Id.Attribute}` of `Fn::Sub`.
 */
function references(value: unknown, out: { id: string; attribute?: string }[] = []): typeof out {
  if (Array.isArray(value)) {
    for (const item of value) references(item, out);
    return out;
  }
  if (value === null || typeof value !== 'object') return out;
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'Ref' && typeof inner === 'string') out.push({ id: inner });
    else if (key === 'Fn::GetAtt') {
      const [id, attribute] = Array.isArray(inner) ? inner : String(inner).split(/\.(.*)/s);
      out.push({ id: String(id), attribute: String(attribute) });
    } else if (key === 'Fn::Sub') {
      const [text, variables] = Array.isArray(inner) ? (inner as [string, Record<string, unknown>]) : [inner, {}];
      for (const [, literal, name] of String(text).matchAll(/\$\{(!?)([^}]+)\}/g)) {
        if (literal || !name || name in variables || name.startsWith('AWS::')) continue;
        const dot = name.indexOf('.');
        out.push(dot > 0 ? { id: name.slice(0, dot), attribute: name.slice(dot + 1) } : { id: name });
      }
      references(variables, out);
    } else references(inner, out);
  }
  return out;
}

export interface DescribeStackInput {
  readonly loaded: LoadedTemplate;
  /** The runtime's resolve context: its names and the local values of what it created. */
  readonly context: ResolveContext;
  readonly created: Date;
  /** Rewrites a resolved output value (the front's `https://` console URL is plain `http://` locally). */
  readonly localValue?: (value: string) => string;
}

export function describeLocalStack(input: DescribeStackInput): LocalStack {
  const { loaded, context } = input;
  const template = loaded.template as LoadedTemplate['template'] & {
    Description?: string;
    Outputs?: Record<string, OutputDefinition>;
    Parameters?: Record<string, { Default?: unknown }>;
  };
  const plain = new IntrinsicResolver(template, context);
  // Named locally but not in the runtime's resolve context: the event source mappings, by the UUID the Lambda API
  // names them with (ListEventSourceMappings, GetEventSourceMapping), and the dashboards, by name (a `Ref` of
  // either, e.g. the DashboardName output, resolves to it).
  const values = new Map(context.resources);
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (values.has(id)) continue;
    if (resource.Type === 'AWS::Lambda::EventSourceMapping')
      values.set(id, { ref: eventSourceMappingUuid(context.stackName, id), attributes: {} });
    else if (resource.Type === 'AWS::CloudWatch::Dashboard')
      values.set(id, { ref: dashboardName(plain, id, resource.Properties ?? {}), attributes: {} });
  }
  const describing = new DescribingResolver(loaded, { ...context, resources: values });
  const physicalIds = new Map<string, string>();
  const resources: StackResourceView[] = [];
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (!describing.isCreated(id)) continue;
    const physicalId = describing.localValue(id)?.ref;
    if (physicalId !== undefined) physicalIds.set(id, physicalId);
    resources.push({
      logicalId: id,
      type: resource.Type,
      physicalId,
      ...(physicalId === undefined ? { reason: `${resource.Type} is not created by the local runtime` } : {}),
    });
  }

  const outputs: StackOutput[] = [];
  const unresolved: { key: string; reason: string }[] = [];
  for (const [key, output] of Object.entries(template.Outputs ?? {})) {
    if (output.Condition !== undefined && !plain.isCreated({ Type: 'Output', Condition: output.Condition }, key))
      continue;
    const missing = [...references(output.Value), ...references(output.Export?.Name)].filter(({ id, attribute }) => {
      if (!template.Resources[id]) return false; // a parameter: resolves to its value
      if (attribute === undefined) return !physicalIds.has(id);
      return describing.localValue(id)?.attributes[attribute] === undefined;
    });
    if (missing.length > 0) {
      unresolved.push({
        key,
        reason: missing
          .map(({ id, attribute }) => `${attribute ? `${id}.${attribute}` : `Ref ${id}`} has no local value`)
          .join('; '),
      });
      continue;
    }
    const value = describing.tryResolve(output.Value, `Outputs.${key}.Value`);
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      unresolved.push({ key, reason: 'its Value does not resolve to a string locally' });
      continue;
    }
    const exportName = describing.tryResolve(output.Export?.Name, `Outputs.${key}.Export.Name`);
    const description = typeof output.Description === 'string' ? output.Description : undefined;
    outputs.push({
      OutputKey: key,
      OutputValue: input.localValue ? input.localValue(String(value)) : String(value),
      ...(description ? { Description: description } : {}),
      ...(typeof exportName === 'string' ? { ExportName: exportName } : {}),
    });
  }

  const { region, account, stackName } = context;
  return {
    name: stackName,
    id: localStackId(region, account, stackName),
    arnPrefix: `arn:aws:cloudformation:${region}:${account}:stack/`,
    ...(typeof template.Description === 'string' ? { description: template.Description } : {}),
    created: input.created,
    // A parameter's value is its default (nothing is passed at deployment); an SSM parameter's ResolvedValue is
    // not known locally and is left out.
    parameters: Object.entries(template.Parameters ?? {}).map(([name, parameter]) => ({
      ParameterKey: name,
      ParameterValue: parameter.Default === undefined ? '' : String(parameter.Default),
    })),
    outputs,
    unresolved,
    resources,
  };
}
