import { randomUUID } from 'node:crypto';

/**
 * AWS's refusals, per protocol, as the SDKs parse them. Access denied:
 * - DynamoDB and DynamoDB Streams (AWS JSON 1.0): HTTP 400, `__type` `com.amazon.coral.service#AccessDeniedException`
 *   and `Message` (DynamoDB API reference, "Common errors": AccessDeniedException, 400).
 * - SQS, AWS JSON 1.0 (awsQueryCompatible): HTTP 403 with `x-amzn-query-error: AccessDenied;Sender`, so SDKs name the
 *   error `AccessDenied` as the query protocol did, and a `__type`/`message` body (SQS developer guide, "Interpreting
 *   Amazon SQS JSON API responses"); the query protocol: the same code in an `ErrorResponse` XML document, HTTP 403.
 * - Lambda (REST JSON): HTTP 403, `x-amzn-ErrorType: AccessDeniedException`, `{"Type":"User","Message":...}`.
 * - CloudWatch, AWS JSON 1.0 (awsQueryCompatible): HTTP 403, `x-amzn-query-error: AccessDenied;Sender`.
 * An unsigned request gets each protocol's MissingAuthenticationToken error instead.
 */
export interface ErrorResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** What AWS answers a request without a signature. */
export const UNSIGNED_MESSAGE = 'Request is missing Authentication Token';
const JSON_1_0 = 'application/x-amz-json-1.0';

const escapeXml = (text: string) =>
  text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);

export function dynamoDbError(kind: 'denied' | 'unsigned', message: string): ErrorResponse {
  const type = kind === 'denied' ? 'AccessDeniedException' : 'MissingAuthenticationTokenException';
  return {
    status: 400,
    headers: { 'content-type': JSON_1_0, 'x-amzn-requestid': randomUUID() },
    body: JSON.stringify({
      __type: `com.amazon.coral.service#${type}`,
      Message: kind === 'denied' ? message : UNSIGNED_MESSAGE,
    }),
  };
}

export function sqsJsonError(kind: 'denied' | 'unsigned', message: string): ErrorResponse {
  const code = kind === 'denied' ? 'AccessDenied' : 'MissingAuthenticationToken';
  return {
    status: 403,
    headers: { 'content-type': JSON_1_0, 'x-amzn-requestid': randomUUID(), 'x-amzn-query-error': `${code};Sender` },
    body: JSON.stringify({
      __type: `com.amazon.coral.service#${kind === 'denied' ? 'AccessDeniedException' : 'MissingAuthenticationTokenException'}`,
      message: kind === 'denied' ? message : UNSIGNED_MESSAGE,
    }),
  };
}

/** The query protocol's error document (`Action=...` form bodies). */
export function sqsQueryError(kind: 'denied' | 'unsigned', message: string): ErrorResponse {
  return kind === 'denied'
    ? sqsQueryFault('AccessDenied', message, 403)
    : sqsQueryFault('MissingAuthenticationToken', UNSIGNED_MESSAGE, 403);
}

/** Any SQS query-protocol error document. */
export function sqsQueryFault(code: string, message: string, status: number): ErrorResponse {
  const requestId = randomUUID();
  return {
    status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body:
      '<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error>' +
      `<Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message>` +
      `<Detail/></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  };
}

export function lambdaError(kind: 'denied' | 'unsigned', message: string): ErrorResponse {
  const type = kind === 'denied' ? 'AccessDeniedException' : 'MissingAuthenticationTokenException';
  return {
    status: 403,
    headers: { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID(), 'x-amzn-errortype': type },
    body: JSON.stringify({ Type: 'User', Message: kind === 'denied' ? message : UNSIGNED_MESSAGE }),
  };
}

/** The bytes of a complete HTTP/1.1 response, for the raw proxy. */
export function serialize(response: ErrorResponse, keepAlive: boolean): Buffer {
  const body = Buffer.from(response.body, 'utf8');
  let head = `HTTP/1.1 ${response.status} ${STATUS_TEXT[response.status] ?? 'Error'}\r\n`;
  for (const [name, value] of Object.entries(response.headers)) head += `${name}: ${value}\r\n`;
  head += `content-length: ${body.length}\r\ndate: ${new Date().toUTCString()}\r\nconnection: ${keepAlive ? 'keep-alive' : 'close'}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  413: 'Payload Too Large',
  502: 'Bad Gateway',
};
