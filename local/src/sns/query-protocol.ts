import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MessageAttribute } from './envelope.ts';
import { SnsApiError } from './model.ts';

/**
 * The AWS query protocol as SNS speaks it (Smithy, "AWS query protocol"; botocore's `sns/2010-03-31` model,
 * `"protocols": ["query"]`, the only protocol of SNS in every SDK, @aws-sdk/client-sns 3.1178 included): form-encoded
 * `Action=...&Version=2010-03-31&...` requests, XML answers in the `http://sns.amazonaws.com/doc/2010-03-31/`
 * namespace, lists as `<member>` elements, maps as `<entry><key/><value/></entry>`, errors as an `ErrorResponse`
 * document.
 */
export const SNS_XML_NAMESPACE = 'http://sns.amazonaws.com/doc/2010-03-31/';
export const SNS_API_VERSION = '2010-03-31';

export type QueryParams = ReadonlyMap<string, string>;

/** The request's parameters: the URL's query string, then the form body (the body wins, as it is what SDKs send). */
export function queryParams(url: string, body: string, contentType: string | undefined): Map<string, string> {
  const params = new Map<string, string>();
  const question = url.indexOf('?');
  if (question >= 0) for (const [key, value] of new URLSearchParams(url.slice(question + 1))) params.set(key, value);
  if (body !== '' && (contentType === undefined || contentType.includes('application/x-www-form-urlencoded')))
    for (const [key, value] of new URLSearchParams(body)) params.set(key, value);
  return params;
}

/** An optional string parameter. */
export function optional(params: QueryParams, name: string): string | undefined {
  return params.get(name);
}

/**
 * A map parameter in the query protocol's form: `<Name>.entry.<n>.<KeyName>` and `<Name>.entry.<n>.<ValueName>.<member>`
 * (entries numbered from 1, without gaps). `members` lists the value structure's members.
 */
function mapEntries(
  params: QueryParams,
  name: string,
  keyName: string,
  valueName: string,
): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  const prefix = `${name}.entry.`;
  const indexes = new Set<number>();
  for (const key of params.keys()) {
    if (!key.startsWith(prefix)) continue;
    const index = Number(key.slice(prefix.length).split('.')[0]);
    if (!Number.isInteger(index) || index < 1) throw SnsApiError.invalidParameter(name, `malformed parameter ${key}`);
    indexes.add(index);
  }
  for (const index of [...indexes].sort((a, b) => a - b)) {
    const entry = `${prefix}${index}.`;
    const key = params.get(`${entry}${keyName}`);
    if (key === undefined || key === '') throw SnsApiError.invalidParameter(name, `entry ${index} has no ${keyName}`);
    const value = new Map<string, string>();
    const valuePrefix = `${entry}${valueName}.`;
    for (const [param, text] of params)
      if (param.startsWith(valuePrefix)) value.set(param.slice(valuePrefix.length), text);
    out.set(key, value);
  }
  return out;
}

/** Publish's `MessageAttributes` (`MessageAttributes.entry.N.Name`, `.Value.DataType`, `.Value.StringValue`, ...). */
export function messageAttributes(params: QueryParams): Record<string, MessageAttribute> | undefined {
  const entries = mapEntries(params, 'MessageAttributes', 'Name', 'Value');
  if (entries.size === 0) return undefined;
  const out: Record<string, MessageAttribute> = {};
  for (const [name, value] of entries) {
    const binary = value.get('BinaryValue');
    out[name] = {
      DataType: value.get('DataType') ?? '',
      ...(value.has('StringValue') ? { StringValue: value.get('StringValue') as string } : {}),
      ...(binary !== undefined ? { BinaryValue: Buffer.from(binary, 'base64') } : {}),
    };
  }
  return out;
}

const escapeXml = (text: string) =>
  text.replace(
    /[<>&'"\r]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;', '\r': '&#13;' })[c] ?? c,
  );

/** An XML value: a string, number or boolean is text; an array is `<member>` elements; `{ __map }` is entries. */
export type XmlValue =
  | string
  | number
  | boolean
  | undefined
  | readonly XmlValue[]
  | { readonly [key: string]: XmlValue };

export const asMap = (record: Readonly<Record<string, string>>): XmlValue => ({
  __map: Object.entries(record).map(([key, value]) => ({ key, value })),
});

function element(name: string, value: XmlValue): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return `<${name}>${value.map((item) => element('member', item)).join('')}</${name}>`;
  if (typeof value === 'object') {
    const record = value as Record<string, XmlValue>;
    if ('__map' in record)
      return `<${name}>${(record.__map as { key: string; value: string }[])
        .map((entry) => `<entry><key>${escapeXml(entry.key)}</key><value>${escapeXml(entry.value)}</value></entry>`)
        .join('')}</${name}>`;
    return `<${name}>${Object.entries(record)
      .map(([key, inner]) => element(key, inner))
      .join('')}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/**
 * `<ActionResponse><ActionResult>...</ActionResult><ResponseMetadata>...</ResponseMetadata></ActionResponse>`, in the
 * service's namespace (SNS's by default; the local CloudFormation endpoint passes its own).
 */
export function xmlResponse(
  action: string,
  result: Readonly<Record<string, XmlValue>> | undefined,
  requestId: string,
  namespace = SNS_XML_NAMESPACE,
) {
  const body = result ? element(`${action}Result`, result as Record<string, XmlValue>) : '';
  return `<${action}Response xmlns="${namespace}">${body}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
}

/** What an `ErrorResponse` says: the error's code, message and whether the sender is at fault (`Sender`/`Receiver`). */
export interface QueryError {
  readonly code: string;
  readonly message: string;
  readonly senderFault: boolean;
}

/** A query request's body, as text (form-encoded parameters). */
export async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** An XML answer or error, with the request id AWS sends as `x-amzn-RequestId`. */
export function sendXml(response: ServerResponse, status: number, body: string, requestId: string): void {
  response.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
  response.end(body);
}

export function xmlError(error: QueryError, requestId = randomUUID(), namespace = SNS_XML_NAMESPACE): string {
  return (
    `<ErrorResponse xmlns="${namespace}"><Error><Type>${error.senderFault ? 'Sender' : 'Receiver'}</Type>` +
    `<Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error>` +
    `<RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}
