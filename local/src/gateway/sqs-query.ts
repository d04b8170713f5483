import { randomUUID } from 'node:crypto';
import { sqsQueryFault } from './errors.ts';
import type { Verdict } from './proxy.ts';
import { SQS_TARGET_PREFIX } from './sqs.ts';
import { SQS_QUERY_MODEL } from './sqs-query-model.ts';

/**
 * Amazon SQS's query protocol (form-encoded `Action=ReceiveMessage&QueueUrl=...`, XML answers) translated to and from
 * the AWS JSON 1.0 protocol fauxqs speaks. The AWS CLI before 2.13.x / 1.29.x and boto3 before 1.28.x (Debian's CLI 2.9
 * and boto3 1.26 among them) and other older SDKs only speak the query protocol to SQS; AWS still serves both (SQS
 * developer guide, "Amazon SQS AWS JSON protocol FAQs":
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-json-faqs.html).
 *
 * The form's field names follow the query serializer of the SDKs: a structure member is named by its `locationName` (or
 * its member name) after its parent's prefix and a dot; a list is `Name.member.N` (`Name.N` when flattened, with the
 * member's `locationName` in place of the last name part when it has one); a map is `Name.entry.N.key`/`.value`
 * (`Name.N.<KeyName>`/`.<ValueName>` when flattened). JSON member names are the model's member names. Answers are the
 * XML the SDKs' query parser reads: `<ActionResponse><ActionResult>...</ActionResult><ResponseMetadata>` with the same
 * naming rules, and errors as `<ErrorResponse>` with the error shape's query-protocol code
 * (`AWS.SimpleQueueService.NonExistentQueue` for `QueueDoesNotExist`).
 */
export interface QueryModel {
  readonly operations: Readonly<Record<string, { input?: string; output?: string; resultWrapper?: string }>>;
  readonly shapes: Readonly<Record<string, QueryShape>>;
}

interface ShapeRef {
  readonly shape: string;
  readonly locationName?: string;
  readonly flattened?: boolean;
}

interface QueryShape {
  readonly type: string;
  readonly flattened?: boolean;
  readonly members?: Readonly<Record<string, ShapeRef>>;
  readonly member?: ShapeRef;
  readonly key?: ShapeRef;
  readonly value?: ShapeRef;
  readonly errorCode?: string;
}

export const SQS_XML_NAMESPACE = 'http://queue.amazonaws.com/doc/2012-11-05/';

export class QueryTranslationError extends Error {
  override readonly name = 'QueryTranslationError';
}

const shapeOf = (ref: ShapeRef, model: QueryModel): QueryShape => {
  const shape = model.shapes[ref.shape];
  if (!shape) throw new QueryTranslationError(`the SQS model has no shape ${ref.shape}`);
  return shape;
};
const flattenedOf = (ref: ShapeRef, shape: QueryShape) => ref.flattened ?? shape.flattened ?? false;

/** The form fields of one query request → the JSON request body of `action` (throws QueryTranslationError). */
export function queryToJson(
  action: string,
  params: URLSearchParams,
  model: QueryModel = SQS_QUERY_MODEL,
): Record<string, unknown> {
  const operation = model.operations[action];
  if (!operation) throw new QueryTranslationError(`${action} is not an SQS action`);
  if (!operation.input) return {};
  const fields = new Map<string, string>();
  for (const [name, value] of params) if (name !== 'Action' && name !== 'Version') fields.set(name, value);
  const has = (prefix: string) => {
    for (const name of fields.keys()) if (name === prefix || name.startsWith(`${prefix}.`)) return true;
    return false;
  };
  const read = (ref: ShapeRef, prefix: string): unknown => {
    const shape = shapeOf(ref, model);
    switch (shape.type) {
      case 'structure': {
        const out: Record<string, unknown> = {};
        for (const [name, member] of Object.entries(shape.members ?? {})) {
          const key = prefix ? `${prefix}.${member.locationName ?? name}` : (member.locationName ?? name);
          const value = read(member, key);
          if (value !== undefined) out[name] = value;
        }
        return prefix && Object.keys(out).length === 0 && !has(prefix) ? undefined : out;
      }
      case 'list': {
        const member = shape.member as ShapeRef;
        let listPrefix: string;
        if (flattenedOf(ref, shape))
          listPrefix = member.locationName
            ? [...prefix.split('.').slice(0, -1), member.locationName].join('.')
            : prefix;
        else listPrefix = `${prefix}.${member.locationName ?? 'member'}`;
        // An empty list is sent as the bare name with an empty value.
        if (!has(listPrefix)) return fields.get(prefix) === '' ? [] : undefined;
        const out: unknown[] = [];
        for (let i = 1; has(`${listPrefix}.${i}`); i++) out.push(read(member, `${listPrefix}.${i}`));
        return out;
      }
      case 'map': {
        if (!has(prefix)) return undefined;
        const key = shape.key as ShapeRef;
        const value = shape.value as ShapeRef;
        const entryPrefix = flattenedOf(ref, shape) ? prefix : `${prefix}.entry`;
        const out: Record<string, unknown> = {};
        for (let i = 1; has(`${entryPrefix}.${i}`); i++) {
          const name = read(key, `${entryPrefix}.${i}.${key.locationName ?? 'key'}`);
          if (typeof name !== 'string')
            throw new QueryTranslationError(`${action}: ${entryPrefix}.${i} has no ${key.locationName ?? 'key'}`);
          out[name] = read(value, `${entryPrefix}.${i}.${value.locationName ?? 'value'}`);
        }
        return out;
      }
      case 'integer':
      case 'long': {
        const text = fields.get(prefix);
        if (text === undefined) return undefined;
        const number = Number(text);
        if (text.trim() === '' || !Number.isInteger(number))
          throw new QueryTranslationError(`${action}: ${prefix}=${text} is not an integer`);
        return number;
      }
      case 'boolean': {
        const text = fields.get(prefix);
        if (text === undefined) return undefined;
        if (text !== 'true' && text !== 'false')
          throw new QueryTranslationError(`${action}: ${prefix}=${text} is not true or false`);
        return text === 'true';
      }
      default:
        // string, and blob: base64 in both protocols.
        return fields.get(prefix);
    }
  };
  return read({ shape: operation.input }, '') as Record<string, unknown>;
}

const escapeXml = (text: string) =>
  text.replace(
    /[<>&'"\r]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;', '\r': '&#xD;' })[c] ?? c,
  );

/** The JSON answer of `action` → the query protocol's XML answer. */
export function jsonToQueryXml(
  action: string,
  output: Record<string, unknown>,
  requestId: string = randomUUID(),
  model: QueryModel = SQS_QUERY_MODEL,
): string {
  const operation = model.operations[action];
  if (!operation) throw new QueryTranslationError(`${action} is not an SQS action`);
  const write = (ref: ShapeRef, name: string, value: unknown): string => {
    if (value === undefined || value === null) return '';
    const shape = shapeOf(ref, model);
    switch (shape.type) {
      case 'structure': {
        let inner = '';
        for (const [member, memberRef] of Object.entries(shape.members ?? {}))
          inner += write(memberRef, memberRef.locationName ?? member, (value as Record<string, unknown>)[member]);
        return `<${name}>${inner}</${name}>`;
      }
      case 'list': {
        const member = shape.member as ShapeRef;
        const items = value as unknown[];
        if (flattenedOf(ref, shape))
          return items.map((item) => write(member, member.locationName ?? name, item)).join('');
        return `<${name}>${items.map((item) => write(member, member.locationName ?? 'member', item)).join('')}</${name}>`;
      }
      case 'map': {
        const key = shape.key as ShapeRef;
        const val = shape.value as ShapeRef;
        const entries = Object.entries(value as Record<string, unknown>).map(
          ([k, v]) => `${write(key, key.locationName ?? 'key', k)}${write(val, val.locationName ?? 'value', v)}`,
        );
        if (flattenedOf(ref, shape)) return entries.map((entry) => `<${name}>${entry}</${name}>`).join('');
        return `<${name}>${entries.map((entry) => `<entry>${entry}</entry>`).join('')}</${name}>`;
      }
      default:
        return `<${name}>${escapeXml(String(value))}</${name}>`;
    }
  };
  const result =
    operation.output !== undefined
      ? write({ shape: operation.output }, operation.resultWrapper ?? `${action}Result`, output)
      : '';
  return (
    `<?xml version="1.0"?><${action}Response xmlns="${SQS_XML_NAMESPACE}">${result}` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`
  );
}

/**
 * A JSON error answer (`__type` `com.amazonaws.sqs#QueueDoesNotExist`, `message`) → the query protocol's
 * `<ErrorResponse>`, with the code the query protocol gives that error (the model's `error.code`; otherwise the
 * `x-amzn-query-error` code or the type's name, as AWS names errors it does not model).
 */
export function jsonErrorToQueryXml(
  error: { __type?: unknown; message?: unknown; Message?: unknown },
  queryErrorHeader?: string,
  requestId: string = randomUUID(),
  model: QueryModel = SQS_QUERY_MODEL,
): string {
  const type = typeof error.__type === 'string' ? (error.__type.split('#').pop() ?? '') : '';
  const [headerCode, fault] = queryErrorHeader?.split(';') ?? [];
  const code = model.shapes[type]?.errorCode ?? headerCode ?? (type || 'InternalError');
  const message =
    typeof error.message === 'string' ? error.message : typeof error.Message === 'string' ? error.Message : '';
  return (
    `<?xml version="1.0"?><ErrorResponse xmlns="${SQS_XML_NAMESPACE}"><Error>` +
    `<Type>${fault === 'Receiver' ? 'Receiver' : 'Sender'}</Type><Code>${escapeXml(code)}</Code>` +
    `<Message>${escapeXml(message)}</Message><Detail/></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}

/**
 * How an authorized query-protocol SQS request reaches fauxqs: as the JSON request of the same action, posted to `/`,
 * with its answer rewritten to the query protocol's XML. A form that does not fit the model (an integer field that is
 * not one) is refused as AWS does, with `InvalidParameterValue`.
 */
export function queryVerdict(action: string, params: URLSearchParams): Verdict {
  let input: Record<string, unknown>;
  try {
    input = queryToJson(action, params);
  } catch (error: unknown) {
    return { forward: false, response: sqsQueryFault('InvalidParameterValue', (error as Error).message, 400) };
  }
  return {
    forward: true,
    url: '/',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `${SQS_TARGET_PREFIX}${action}` },
    body: Buffer.from(JSON.stringify(input), 'utf8'),
    rewriteResponse: (body, status) => {
      let answer: Record<string, unknown>;
      try {
        answer = body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as Record<string, unknown>);
      } catch {
        return body; // Not JSON (a framing or server error of the emulator): passed on as it came.
      }
      const xml = status >= 300 ? jsonErrorToQueryXml(answer) : jsonToQueryXml(action, answer);
      return Buffer.from(xml, 'utf8');
    },
  };
}
