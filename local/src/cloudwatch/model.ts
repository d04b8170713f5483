import * as cloudwatch from '@aws-sdk/client-cloudwatch';
import { dateToTag } from '@smithy/core/cbor';
import { NormalizedSchema } from '@smithy/core/schema';

/**
 * CloudWatch's shapes as AWS publishes them: the operation, structure and error schemas that
 * `@aws-sdk/client-cloudwatch` generates from the service model (the same model botocore ships as
 * `cloudwatch/2010-08-01/service-2.json`). Every protocol the endpoint speaks reads requests and writes responses by
 * walking these schemas, so member names, list and map encodings, timestamp formats and error codes come from the
 * model, not from this code.
 *
 * Inside the endpoint every value is in one canonical form whatever the protocol: structures and maps are plain
 * objects, lists arrays, timestamps `Date`s, blobs `Buffer`s, numbers and booleans as such.
 */

/** The service model's `xmlNamespace` (query protocol responses). */
export const XML_NAMESPACE = 'http://monitoring.amazonaws.com/doc/2010-08-01/';
/** The API version a query request names (`Version=2010-08-01`). */
export const API_VERSION = '2010-08-01';
/** The service shape's name: the JSON protocol's target prefix and RPC v2 CBOR's `serviceName` path segment. */
export const SERVICE_NAME = 'GraniteServiceVersion20100801';
const SHAPE_NAMESPACE = 'com.amazonaws.cloudwatch';

type StaticSchema = Parameters<typeof NormalizedSchema.of>[0];
export type Json = Record<string, unknown>;

interface OperationShapes {
  readonly input: NormalizedSchema;
  readonly output: NormalizedSchema;
}

/** Operation name → its input and output schemas, from the SDK's exported `<Operation>$` schemas. */
const OPERATIONS = new Map<string, OperationShapes>();
/** Error shape name → its query code, HTTP status and fault, from the exported error schemas' traits. */
const ERRORS = new Map<string, ErrorShape>();

export interface ErrorShape {
  /** The shape's name, e.g. `InvalidParameterValueException` (JSON and CBOR `__type`). */
  readonly shape: string;
  /** The query protocol's code (`awsQueryError`), e.g. `InvalidParameterValue`. */
  readonly code: string;
  readonly status: number;
  readonly fault: 'Sender' | 'Receiver';
}

for (const [name, value] of Object.entries(cloudwatch)) {
  if (!name.endsWith('$') || !Array.isArray(value)) continue;
  const [kind] = value as unknown[];
  if (kind === 9) {
    const [, , opName, , input, output] = value as [number, string, string, unknown, () => unknown, () => unknown];
    OPERATIONS.set(opName, {
      input: NormalizedSchema.of(input() as StaticSchema),
      output: NormalizedSchema.of(output() as StaticSchema),
    });
  } else if (kind === -3) {
    const schema = NormalizedSchema.of(value as StaticSchema);
    const traits = schema.getMergedTraits() as { awsQueryError?: [string, number]; error?: string; httpError?: number };
    const shape = schema.getName() ?? name.slice(0, -1);
    if (!traits.error) continue;
    ERRORS.set(shape, {
      shape,
      code: traits.awsQueryError?.[0] ?? shape,
      status: traits.awsQueryError?.[1] ?? traits.httpError ?? (traits.error === 'server' ? 500 : 400),
      fault: traits.error === 'server' ? 'Receiver' : 'Sender',
    });
  }
}

export function operationShapes(operation: string): OperationShapes | undefined {
  return OPERATIONS.get(operation);
}

/** Every operation of the CloudWatch API, as the model names them. */
export function modelOperations(): string[] {
  return [...OPERATIONS.keys()];
}

/**
 * The modeled error for a query code, or the named shape. Codes two shapes share (`ResourceNotFound`: alarms and
 * dashboards) resolve to the shape of that name unless `shape` says otherwise.
 */
export function errorShape(code: string, shape?: string): ErrorShape | undefined {
  if (shape) return ERRORS.get(shape);
  const exact = ERRORS.get(code);
  if (exact && exact.code === code) return exact;
  for (const error of ERRORS.values()) if (error.code === code) return error;
  return undefined;
}

/** The absolute shape id of an error (`com.amazonaws.cloudwatch#InvalidParameterValueException`). */
export function errorShapeId(shape: string): string {
  return `${SHAPE_NAMESPACE}#${shape}`;
}

/** A request value that does not fit its shape; the protocol turns it into its own error. */
export class ShapeError extends Error {
  override readonly name = 'ShapeError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);

/** Member name → member schema, computed once per structure schema. */
const membersCache = new WeakMap<object, Record<string, NormalizedSchema>>();
function membersOf(schema: NormalizedSchema): Record<string, NormalizedSchema> {
  const key = schema.getSchema() as object;
  let members = membersCache.get(key);
  if (!members) {
    members = schema.getMemberSchemas();
    membersCache.set(key, members);
  }
  return members;
}

type Leaf = (value: unknown, schema: NormalizedSchema, path: string) => unknown;

/**
 * Walks a document against a schema, converting each scalar with `leaf`. Unknown request members are dropped, as the
 * service ignores them; `strict` (responses) makes an unknown member an error, so a typo in an operation's output
 * cannot silently vanish from every protocol.
 */
function walk(value: unknown, schema: NormalizedSchema, path: string, leaf: Leaf, strict: boolean): unknown {
  if (value === undefined || value === null) return undefined;
  if (schema.isStructSchema() || schema.isUnionSchema()) {
    if (!isRecord(value)) throw new ShapeError(path, `${path} must be a structure, got ${describe(value)}`);
    const members = membersOf(schema);
    const out: Record<string, unknown> = {};
    for (const [name, inner] of Object.entries(value)) {
      const member = members[name];
      if (!member) {
        if (strict) throw new Error(`${path}.${name} is not a member of ${schema.getName() ?? 'the structure'}`);
        continue;
      }
      const converted = walk(inner, member, path ? `${path}.${name}` : name, leaf, strict);
      if (converted !== undefined) out[name] = converted;
    }
    return out;
  }
  if (schema.isListSchema()) {
    if (!Array.isArray(value)) throw new ShapeError(path, `${path} must be a list, got ${describe(value)}`);
    const member = schema.getValueSchema();
    return value.map((item, i) => walk(item, member, `${path}[${i}]`, leaf, strict));
  }
  if (schema.isMapSchema()) {
    if (!isRecord(value)) throw new ShapeError(path, `${path} must be a map, got ${describe(value)}`);
    const valueSchema = schema.getValueSchema();
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value))
      out[key] = walk(inner, valueSchema, `${path}.${key}`, leaf, strict);
    return out;
  }
  return leaf(value, schema, path);
}

function describe(value: unknown): string {
  if (value instanceof Date) return 'a timestamp';
  if (value instanceof Uint8Array) return 'a blob';
  return JSON.stringify(value) ?? String(value);
}

/** A scalar of a request, already of a JSON or CBOR type, checked against its shape. */
function scalarIn(value: unknown, schema: NormalizedSchema, path: string): unknown {
  if (schema.isTimestampSchema()) {
    if (value instanceof Date) return value;
    // CBOR's tag 1 (epoch seconds); AWS JSON's epoch seconds; an ISO 8601 string.
    const raw = isRecord(value) && 'tag' in value && value.tag === 1 ? value.value : value;
    if (typeof raw === 'number' && Number.isFinite(raw)) return new Date(Math.round(raw * 1000));
    if (typeof raw === 'string' && raw !== '' && !Number.isNaN(Date.parse(raw))) return new Date(Date.parse(raw));
    throw new ShapeError(path, `${path} must be a timestamp, got ${describe(value)}`);
  }
  if (schema.isBlobSchema()) {
    if (value instanceof Uint8Array) return Buffer.from(value);
    if (typeof value === 'string') return Buffer.from(value, 'base64');
    throw new ShapeError(path, `${path} must be a blob, got ${describe(value)}`);
  }
  if (schema.isNumericSchema()) {
    if (typeof value === 'number') return value;
    // JSON writes NaN and the infinities of doubles as strings.
    if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') return Number(value);
    throw new ShapeError(path, `${path} must be a number, got ${describe(value)}`);
  }
  if (schema.isBooleanSchema()) {
    if (typeof value === 'boolean') return value;
    throw new ShapeError(path, `${path} must be a boolean, got ${describe(value)}`);
  }
  if (typeof value !== 'string') throw new ShapeError(path, `${path} must be a string, got ${describe(value)}`);
  return value;
}

/** An AWS JSON 1.0 or RPC v2 CBOR request body (already parsed) → the canonical input. */
export function inputFromDocument(document: unknown, schema: NormalizedSchema): Json {
  if (schema.isUnitSchema()) return {};
  return (walk(document ?? {}, schema, '', scalarIn, false) as Json | undefined) ?? {};
}

/** The canonical output → an AWS JSON 1.0 document: timestamps as epoch seconds, blobs as base64. */
export function outputToJson(output: Json, schema: NormalizedSchema): Json {
  return walk(output, schema, '', jsonLeaf, true) as Json;
}

/** Operations return timestamps as `Date`s; anything else in a timestamp member is a bug of the operation. */
function checkTimestamp(value: unknown, schema: NormalizedSchema, path: string): void {
  if (schema.isTimestampSchema() !== value instanceof Date)
    throw new Error(
      `${path}: an operation returned ${describe(value)} for a ${schema.isTimestampSchema() ? 'timestamp' : 'non-timestamp'} member`,
    );
}

function jsonLeaf(value: unknown, schema: NormalizedSchema, path: string): unknown {
  checkTimestamp(value, schema, path);
  if (value instanceof Date) return value.getTime() / 1000;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  // AWS JSON writes the non-finite doubles as strings.
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return value;
}

/** The canonical output → an RPC v2 CBOR document: timestamps as tag 1 epoch seconds. */
export function outputToCbor(output: Json, schema: NormalizedSchema): Json {
  return walk(
    output,
    schema,
    '',
    (value, member, path) => {
      checkTimestamp(value, member, path);
      return value instanceof Date ? dateToTag(value) : value;
    },
    true,
  ) as Json;
}

// --- The query protocol (form-encoded requests, XML responses) ---

const isTrait = (schema: NormalizedSchema, trait: string) =>
  Boolean((schema.getMergedTraits() as Record<string, unknown>)[trait]);
const xmlNameOf = (schema: NormalizedSchema, fallback: string) =>
  ((schema.getMergedTraits() as { xmlName?: string }).xmlName ?? fallback) as string;

/**
 * Query parameters → the canonical input, by the awsQuery rules (Smithy "AWS query protocol", botocore's
 * `QuerySerializer`): a structure member is `Prefix.Member`, a list `Prefix.member.N` (N from 1; an empty list is
 * `Prefix=` with no value), a map `Prefix.entry.N.key` / `Prefix.entry.N.value`, booleans `true`/`false`, timestamps
 * ISO 8601, blobs base64.
 */
export function inputFromQuery(params: ReadonlyMap<string, string>, schema: NormalizedSchema): Json {
  if (schema.isUnitSchema()) return {};
  const keys = [...params.keys()];
  return (readQuery(params, keys, schema, '') as Json | undefined) ?? {};
}

function present(keys: readonly string[], prefix: string): boolean {
  const dotted = `${prefix}.`;
  return keys.some((key) => key === prefix || key.startsWith(dotted));
}

/** The N of `prefix.N...` keys, ascending; an index that is not a positive integer is an error naming the key. */
function indexes(keys: readonly string[], prefix: string): number[] {
  const dotted = `${prefix}.`;
  const found = new Set<number>();
  for (const key of keys) {
    if (!key.startsWith(dotted)) continue;
    const segment = key.slice(dotted.length).split('.')[0] ?? '';
    const index = Number(segment);
    if (!/^\d+$/.test(segment) || index < 1)
      throw new ShapeError(prefix, `malformed parameter ${key}: ${segment} is not a position (1, 2, ...)`);
    found.add(index);
  }
  return [...found].sort((a, b) => a - b);
}

function readQuery(
  params: ReadonlyMap<string, string>,
  keys: readonly string[],
  schema: NormalizedSchema,
  prefix: string,
): unknown {
  if (schema.isStructSchema() || schema.isUnionSchema()) {
    const out: Record<string, unknown> = {};
    for (const [name, member] of Object.entries(membersOf(schema))) {
      const key = prefix ? `${prefix}.${xmlNameOf(member, name)}` : xmlNameOf(member, name);
      if (!present(keys, key)) continue;
      const value = readQuery(params, keys, member, key);
      if (value !== undefined) out[name] = value;
    }
    return out;
  }
  if (schema.isListSchema()) {
    if (params.get(prefix) === '') return [];
    const member = schema.getValueSchema();
    const itemPrefix = isTrait(schema, 'xmlFlattened') ? prefix : `${prefix}.${xmlNameOf(member, 'member')}`;
    return indexes(keys, itemPrefix).map((n) => readQuery(params, keys, member, `${itemPrefix}.${n}`));
  }
  if (schema.isMapSchema()) {
    if (params.get(prefix) === '') return {};
    const entryPrefix = isTrait(schema, 'xmlFlattened') ? prefix : `${prefix}.entry`;
    const keyName = xmlNameOf(schema.getKeySchema(), 'key');
    const valueSchema = schema.getValueSchema();
    const valueName = xmlNameOf(valueSchema, 'value');
    const out: Record<string, unknown> = {};
    for (const n of indexes(keys, entryPrefix)) {
      const key = params.get(`${entryPrefix}.${n}.${keyName}`);
      if (key === undefined) throw new ShapeError(prefix, `${entryPrefix}.${n} has no ${keyName}`);
      out[key] = readQuery(params, keys, valueSchema, `${entryPrefix}.${n}.${valueName}`);
    }
    return out;
  }
  const text = params.get(prefix);
  if (text === undefined) return undefined;
  return scalarFromText(text, schema, prefix);
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

function scalarFromText(text: string, schema: NormalizedSchema, path: string): unknown {
  if (schema.isTimestampSchema()) {
    // "In a raw HTTP query, the time stamp must be in ISO 8601 UTC format" (GetMetricStatistics, StartTime).
    const ms = ISO_8601.test(text) ? Date.parse(text) : Number.NaN;
    if (Number.isNaN(ms)) throw new ShapeError(path, `${path} must be an ISO 8601 timestamp, got '${text}'`);
    return new Date(ms);
  }
  if (schema.isBlobSchema()) return Buffer.from(text, 'base64');
  if (schema.isNumericSchema()) {
    const value = Number(text);
    if (text.trim() === '' || (Number.isNaN(value) && text !== 'NaN'))
      throw new ShapeError(path, `${path} must be a number, got '${text}'`);
    return value;
  }
  if (schema.isBooleanSchema()) {
    if (text !== 'true' && text !== 'false') throw new ShapeError(path, `${path} must be true or false, got '${text}'`);
    return text === 'true';
  }
  return text;
}

/** Text content: `<`, `>`, `&`, and CR, which XML parsers would otherwise turn into LF. */
const escapeXml = (text: string) =>
  text.replace(/[<>&\r]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '\r': '&#13;' })[c] ?? c);

/**
 * The canonical output → the query protocol's XML result: each member an element named after it (in the model's
 * order), lists as `<member>` elements, maps as `<entry><key/><value/></entry>`, timestamps ISO 8601 (the protocol's
 * default `date-time` format), an empty list as an empty element.
 */
export function outputToXml(output: Json, schema: NormalizedSchema): string {
  return xmlChildren(output, schema, 'Result');
}

function xmlChildren(value: Json, schema: NormalizedSchema, path: string): string {
  let out = '';
  // The model's member order, as AWS writes its responses; an unknown member is an error (see `walk`).
  const members = membersOf(schema);
  for (const name of Object.keys(value))
    if (!members[name]) throw new Error(`${path}.${name} is not a member of ${schema.getName() ?? 'the structure'}`);
  for (const [name, member] of Object.entries(members)) {
    const inner = value[name];
    if (inner === undefined || inner === null) continue;
    out += xmlElement(xmlNameOf(member, name), inner, member, `${path}.${name}`);
  }
  return out;
}

function xmlElement(name: string, value: unknown, schema: NormalizedSchema, path: string): string {
  if (schema.isStructSchema() || schema.isUnionSchema())
    return `<${name}>${xmlChildren(value as Json, schema, path)}</${name}>`;
  if (schema.isListSchema()) {
    const member = schema.getValueSchema();
    const items = (value as unknown[]).map((item, i) =>
      xmlElement(isTrait(schema, 'xmlFlattened') ? name : xmlNameOf(member, 'member'), item, member, `${path}[${i}]`),
    );
    return isTrait(schema, 'xmlFlattened') ? items.join('') : `<${name}>${items.join('')}</${name}>`;
  }
  if (schema.isMapSchema()) {
    const keyName = xmlNameOf(schema.getKeySchema(), 'key');
    const valueSchema = schema.getValueSchema();
    const valueName = xmlNameOf(valueSchema, 'value');
    const entries = Object.entries(value as Json).map(
      ([key, inner]) =>
        `<entry><${keyName}>${escapeXml(key)}</${keyName}>${xmlElement(valueName, inner, valueSchema, `${path}.${key}`)}</entry>`,
    );
    return `<${name}>${entries.join('')}</${name}>`;
  }
  return `<${name}>${escapeXml(xmlScalar(value, schema, path))}</${name}>`;
}

function xmlScalar(value: unknown, schema: NormalizedSchema, path: string): string {
  checkTimestamp(value, schema, path);
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return String(value);
}
