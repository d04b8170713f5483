import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DescribingResolver } from '../template/described-resources.ts';
import { localStackId, type ResolveContext } from '../template/intrinsics.ts';
import type { LoadedTemplate } from '../template/local-plan.ts';
import { eventSourceMappingUuid } from './sqs-event-source.ts';

/**
 * What the Lambda API's read operations answer about the template's functions: GetFunctionConfiguration's
 * `FunctionConfiguration`, GetFunction's `Tags` and `Concurrency`, and the template's event source mappings
 * (Lambda API reference: https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html,
 * API_GetFunction.html, API_EventSourceMappingConfiguration.html). Values are the template's properties resolved to
 * local values, with Lambda's defaults where the template leaves one out (Timeout 3, MemorySize 128, x86_64, 512 MB
 * of /tmp, PassThrough tracing, Text logs to `/aws/lambda/NAME`).
 */
export interface FunctionDescription {
  readonly logicalId: string;
  readonly configuration: Readonly<Record<string, unknown>>;
  /** CloudFormation's own tags on the function, then the template's `Tags`. */
  readonly tags: Readonly<Record<string, string>>;
  readonly reservedConcurrency?: number;
  /** Why the function does not run locally (it is described, but Invoke cannot run it); undefined: it runs. */
  readonly notRunnable?: string;
}

export interface EventSourceMappingDescription {
  readonly functionName: string;
  readonly configuration: Readonly<Record<string, unknown>>;
}

/** The template's functions as the Lambda API describes them, by function name. */
export class FunctionCatalog {
  constructor(
    readonly functions: ReadonlyMap<string, FunctionDescription>,
    readonly eventSourceMappings: readonly EventSourceMappingDescription[],
  ) {}

  /** `name`, `name:qualifier`, a partial or a full ARN → the function's name (its qualifier is checked by the caller). */
  static nameOf(functionName: string): { name: string; qualifier: string | undefined } {
    const parts = functionName.split(':');
    // arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER], ACCOUNT:function:NAME[:QUALIFIER], NAME[:QUALIFIER]
    const at = parts.indexOf('function');
    const rest = at >= 0 ? parts.slice(at + 1) : parts;
    return { name: rest[0] ?? '', qualifier: rest[1] };
  }
}

/** Lambda's `LastModified` format: `2024-01-31T12:00:00.000+0000`. */
export const lambdaTimestamp = (date: Date) => date.toISOString().replace('Z', '+0000');

/** Size and base64 SHA-256 of the function's bundled code (the asset directory's files, in path order). */
function codeDigest(codeDir: string): { size: number; sha256: string } {
  const hash = createHash('sha256');
  let size = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) {
        const content = readFileSync(path);
        hash.update(entry.name).update(content);
        size += statSync(path).size;
      }
    }
  };
  walk(codeDir);
  return { size, sha256: hash.digest('base64') };
}

export interface CatalogInput {
  readonly loaded: LoadedTemplate;
  readonly context: ResolveContext;
  /** The functions the runtime runs, with their code directory. */
  readonly runnable: readonly { readonly logicalId: string; readonly codeDir: string }[];
  /** The template's functions that do not run locally, with the reason. */
  readonly skipped: readonly { readonly logicalId: string; readonly reason: string }[];
  /** When the runtime deployed them (`LastModified`). */
  readonly deployedAt?: Date;
}

export function templateFunctionCatalog(input: CatalogInput): FunctionCatalog {
  const { loaded, context } = input;
  const resolver = new DescribingResolver(loaded, context);
  const lastModified = lambdaTimestamp(input.deployedAt ?? new Date());
  const functions = new Map<string, FunctionDescription>();
  const arnOf = (name: string) => `arn:aws:lambda:${context.region}:${context.account}:function:${name}`;
  for (const [id, resource] of Object.entries(loaded.template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function' || !resolver.isCreated(id)) continue;
    const p = resource.Properties ?? {};
    const get = (key: string) => resolver.tryResolve(p[key], `${id}.${key}`) as Record<string, unknown> | undefined;
    const name = context.resources.get(id)?.ref ?? id;
    const codeDir = input.runnable.find((f) => f.logicalId === id)?.codeDir;
    const code = codeDir ? codeDigest(codeDir) : { size: 0, sha256: '' };
    const variables = (get('Environment') as { Variables?: Record<string, unknown> } | undefined)?.Variables;
    const logging = get('LoggingConfig') as Record<string, unknown> | undefined;
    const layers = (resolver.tryResolve(p.Layers, `${id}.Layers`) as unknown[] | undefined) ?? [];
    const optional = (key: string, value: unknown) =>
      value === undefined || value === null ? {} : { [key]: value as unknown };
    const configuration: Record<string, unknown> = {
      FunctionName: name,
      FunctionArn: arnOf(name),
      ...optional('Runtime', get('Runtime')),
      ...optional('Role', get('Role')),
      ...optional('Handler', get('Handler')),
      CodeSize: code.size,
      Description: typeof get('Description') === 'string' ? get('Description') : '',
      Timeout: Number(get('Timeout') ?? 3),
      MemorySize: Number(get('MemorySize') ?? 128),
      LastModified: lastModified,
      CodeSha256: code.sha256,
      Version: '$LATEST',
      ...optional('VpcConfig', get('VpcConfig')),
      ...optional('DeadLetterConfig', get('DeadLetterConfig')),
      ...(variables
        ? { Environment: { Variables: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(v)])) } }
        : {}),
      ...optional('KMSKeyArn', get('KmsKeyArn')),
      TracingConfig: { Mode: (get('TracingConfig') as { Mode?: string } | undefined)?.Mode ?? 'PassThrough' },
      RevisionId: randomUUID(),
      ...(layers.length > 0 ? { Layers: layers.map((arn) => ({ Arn: String(arn), CodeSize: 0 })) } : {}),
      State: 'Active',
      LastUpdateStatus: 'Successful',
      PackageType: 'Zip',
      Architectures: (get('Architectures') as unknown as string[] | undefined) ?? ['x86_64'],
      EphemeralStorage: { Size: Number((get('EphemeralStorage') as { Size?: number } | undefined)?.Size ?? 512) },
      SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
      LoggingConfig: {
        LogFormat: logging?.LogFormat ?? 'Text',
        ...optional('ApplicationLogLevel', logging?.ApplicationLogLevel),
        ...optional('SystemLogLevel', logging?.SystemLogLevel),
        LogGroup: logging?.LogGroup ?? `/aws/lambda/${name}`,
      },
    };
    const templateTags = (resolver.tryResolve(p.Tags, `${id}.Tags`) as { Key: string; Value: unknown }[]) ?? [];
    const reserved = p.ReservedConcurrentExecutions;
    const skipped = input.skipped.find((f) => f.logicalId === id);
    functions.set(name, {
      logicalId: id,
      configuration,
      tags: {
        // CloudFormation tags every resource it creates with its stack and logical id.
        'aws:cloudformation:stack-name': context.stackName,
        'aws:cloudformation:stack-id': localStackId(context.region, context.account, context.stackName),
        'aws:cloudformation:logical-id': id,
        ...Object.fromEntries(templateTags.map((tag) => [tag.Key, String(tag.Value)])),
      },
      ...(reserved === undefined ? {} : { reservedConcurrency: Number(reserved) }),
      ...(skipped ? { notRunnable: skipped.reason } : {}),
    });
  }
  const eventSourceMappings: EventSourceMappingDescription[] = [];
  for (const [id, resource] of Object.entries(loaded.template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::EventSourceMapping' || !resolver.isCreated(id)) continue;
    const p = (resolver.tryResolve(resource.Properties ?? {}, id) ?? {}) as Record<string, unknown>;
    const functionName = FunctionCatalog.nameOf(String(p.FunctionName ?? '')).name;
    const { FunctionName: _, Enabled, ...rest } = p;
    eventSourceMappings.push({
      functionName,
      configuration: {
        UUID: eventSourceMappingUuid(context.stackName, id),
        ...rest,
        FunctionArn: arnOf(functionName),
        LastModified: (input.deployedAt ?? new Date()).getTime() / 1000,
        State: Enabled === false ? 'Disabled' : 'Enabled',
        StateTransitionReason: 'USER_INITIATED',
      },
    });
  }
  return new FunctionCatalog(functions, eventSourceMappings);
}
