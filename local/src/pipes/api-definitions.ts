import { DescribingResolver } from '../template/described-resources.ts';
import type { ResolveContext } from '../template/intrinsics.ts';
import type { LoadedTemplate } from '../template/local-plan.ts';

/**
 * What DescribePipe answers about a pipe beyond its state: the template's `AWS::Pipes::Pipe` properties, resolved to
 * local values, under the Pipes API's member names (which are CloudFormation's). Shapes: DescribePipeResponse in the
 * Pipes API reference (https://docs.aws.amazon.com/eventbridge/latest/pipes-reference/API_DescribePipe.html).
 */
export interface PipeDefinition {
  readonly logicalId: string;
  readonly Name: string;
  readonly Description?: string;
  /** The source's ARN: for these pipes the orders table's stream ARN, as the runtime created it. */
  readonly Source: string;
  readonly SourceParameters?: Readonly<Record<string, unknown>>;
  readonly Enrichment?: string;
  readonly EnrichmentParameters?: Readonly<Record<string, unknown>>;
  readonly Target: string;
  readonly TargetParameters?: Readonly<Record<string, unknown>>;
  readonly RoleArn: string;
  readonly LogConfiguration?: Readonly<Record<string, unknown>>;
  readonly KmsKeyIdentifier?: string;
  /** The template's `Tags` (a map in AWS::Pipes::Pipe, as in the API). */
  readonly Tags?: Readonly<Record<string, string>>;
}

const OPTIONAL_OBJECTS = [
  'SourceParameters',
  'EnrichmentParameters',
  'TargetParameters',
  'LogConfiguration',
  'Tags',
] as const;
const OPTIONAL_STRINGS = ['Description', 'Enrichment', 'KmsKeyIdentifier'] as const;

/** Every pipe of the template (whose condition holds), by logical id. */
export function templatePipeDefinitions(loaded: LoadedTemplate, context: ResolveContext): Map<string, PipeDefinition> {
  const resolver = new DescribingResolver(loaded, context);
  const definitions = new Map<string, PipeDefinition>();
  for (const [id, resource] of Object.entries(loaded.template.Resources)) {
    if (resource.Type !== 'AWS::Pipes::Pipe' || !resolver.isCreated(id)) continue;
    const p = resource.Properties ?? {};
    const text = (key: string) => {
      const value = resolver.tryResolve(p[key], `${id}.${key}`);
      return typeof value === 'string' ? value : undefined;
    };
    const definition: Record<string, unknown> = {
      logicalId: id,
      Name: text('Name') ?? context.resources.get(id)?.ref ?? id,
      Source: text('Source') ?? '',
      Target: text('Target') ?? '',
      RoleArn: text('RoleArn') ?? '',
    };
    for (const key of OPTIONAL_STRINGS) {
      const value = text(key);
      if (value !== undefined) definition[key] = value;
    }
    for (const key of OPTIONAL_OBJECTS) {
      const value = resolver.tryResolve(p[key], `${id}.${key}`);
      if (value !== null && typeof value === 'object') definition[key] = value;
    }
    definitions.set(id, definition as unknown as PipeDefinition);
  }
  return definitions;
}
