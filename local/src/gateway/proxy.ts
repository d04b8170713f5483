import { connect, createServer, type Server, type Socket } from 'node:net';
import { crc32, gunzipSync } from 'node:zlib';
import { browserRefusal, refusalResponse } from '../services/browser-guard.ts';
import { type ErrorResponse, serialize } from './errors.ts';

/**
 * A gateway listener: an HTTP/1.1 front for a backend on an internal port (DynamoDB Local, fauxqs) that reads each
 * request, lets `inspect` decide, and either forwards the request's bytes unchanged or answers itself.
 *
 * It works on the raw connection rather than through `node:http` on both sides, because it sits on the pipeline's hot
 * path (every processor write and every pipe poll): each client connection gets one backend connection, requests are
 * parsed only as far as framing and the few headers needed, and responses are piped back byte for byte without being
 * parsed (only the status code of a response a verdict asked about is read). A verdict may instead forward a body of its
 * own and ask for the response's body to be rewritten (the few DynamoDB and Streams operations whose ARNs the gateway
 * translates, arns.ts): only such a response is read whole, rewritten and re-framed. This relies on clients not pipelining
 * requests (a request is sent after the previous response has been read), which holds for the AWS SDKs, the AWS CLI
 * and curl; a pipelining client could see a refusal before the response to its previous request.
 */
export interface ProxiedRequest {
  readonly method: string;
  readonly url: string;
  /**
   * Lower-case names, and only those the gateway reads: authorization, x-amz-target, content-type, content-length,
   * transfer-encoding, content-encoding, expect, connection, host, origin, sec-fetch-site (the first of a repeated
   * header).
   */
  readonly headers: Readonly<Record<string, string>>;
  /** The body as the service reads it: chunked framing removed, gzip content decoded. */
  readonly body: Buffer;
}

export type Verdict =
  | {
      readonly forward: true;
      /** Called with the response's status code once it starts (e.g. to count successful writes). */
      readonly onStatus?: (status: number) => void;
      /** The body to forward instead of the client's: the request is re-framed with its own Content-Length. */
      readonly body?: Buffer;
      /**
       * With `body`: request headers to set (lower-case names) in place of the client's, and the request target to
       * send instead of the client's (a query-protocol SQS request translated to JSON, sqs-query.ts).
       */
      readonly headers?: Readonly<Record<string, string>>;
      readonly url?: string;
      /**
       * The response body as the client gets it, from the backend's (decoded if gzipped) and its status: the
       * response is read whole and re-framed (Content-Length, and `x-amz-crc32` when the backend sent one, since the
       * AWS SDKs and the CLI check it). Returning the same buffer forwards the response as it came.
       */
      readonly rewriteResponse?: (body: Buffer, status: number) => Buffer;
    }
  | { readonly forward: false; readonly response: ErrorResponse };

export const FORWARD: Verdict = { forward: true };

export interface GatewayListenerOptions {
  /** What the listener fronts, for messages (`DynamoDB`, `SQS`). */
  readonly what: string;
  readonly backendPort: number;
  readonly inspect: (request: ProxiedRequest) => Verdict;
  readonly onError?: (error: unknown) => void;
}

export interface GatewayListener {
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
const MAX_HEAD_BYTES = 64 * 1024;
/** DynamoDB's largest request (BatchWriteItem) is 16 MB; anything beyond this is refused rather than buffered. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n');

class FramingError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface ParsedHead {
  readonly method: string;
  readonly url: string;
  readonly version: string;
  readonly headers: Record<string, string>;
  /** The head as received, for a request whose `Expect` must not reach the backend. */
  readonly text: string;
}

/** The only headers the gateway reads (what the inspectors and the framing need). */
const READ_HEADERS = [
  'authorization',
  'x-amz-target',
  'content-type',
  'content-length',
  'transfer-encoding',
  'content-encoding',
  'expect',
  'connection',
  // What tells a web page's request apart (services/browser-guard.ts).
  'host',
  'origin',
  'sec-fetch-site',
] as const;

/**
 * The request line and the headers in READ_HEADERS, found by searching the lower-cased head rather than splitting it
 * into lines (this runs for every request on the pipeline's hot path).
 */
function parseHead(text: string): ParsedHead {
  const lineEnd = text.indexOf('\r\n');
  const requestLine = lineEnd < 0 ? text : text.slice(0, lineEnd);
  const [method = '', url = '', version = ''] = requestLine.split(' ');
  if (!method || !url || !version.startsWith('HTTP/1.'))
    throw new FramingError(400, `not an HTTP/1.x request line: ${JSON.stringify(requestLine.slice(0, 100))}`);
  const lower = text.toLowerCase();
  const headers: Record<string, string> = {};
  for (const name of READ_HEADERS) {
    const at = lower.indexOf(`\r\n${name}:`);
    if (at < 0) continue;
    const start = at + name.length + 3;
    const end = lower.indexOf('\r\n', start);
    headers[name] = text.slice(start, end < 0 ? text.length : end).trim();
  }
  return { method, url, version, headers, text };
}

/**
 * The end of a chunked body starting at `start`, and its decoded bytes; undefined while incomplete.
 * https://www.rfc-editor.org/rfc/rfc9112#section-7.1
 */
function readChunked(buffer: Buffer, start: number): { end: number; body: Buffer } | undefined {
  const parts: Buffer[] = [];
  let size = 0;
  let at = start;
  for (;;) {
    const lineEnd = buffer.indexOf(CRLF, at);
    if (lineEnd < 0) return undefined;
    const length = Number.parseInt(buffer.toString('latin1', at, lineEnd).split(';')[0] ?? '', 16);
    if (!Number.isInteger(length) || length < 0) throw new FramingError(400, 'malformed chunk size in a chunked body');
    if (length === 0) {
      // Trailers end with an empty line.
      const end = buffer.indexOf(HEAD_END, lineEnd);
      return end < 0 ? undefined : { end: end + 4, body: Buffer.concat(parts) };
    }
    size += length;
    if (size > MAX_BODY_BYTES) throw new FramingError(413, `request body over ${MAX_BODY_BYTES} bytes`);
    const dataStart = lineEnd + 2;
    if (buffer.length < dataStart + length + 2) return undefined;
    parts.push(buffer.subarray(dataStart, dataStart + length));
    at = dataStart + length + 2;
  }
}

class Connection {
  private pending: Buffer | undefined;
  private backend: Socket | undefined;
  /** A forwarded request whose response has not started yet, and who wants its status. */
  private awaitingStart = false;
  private onStatus: ((status: number) => void) | undefined;
  private statusPrefix: Buffer | undefined;
  private continued = false;
  /** The rewrite of the response being awaited, and its bytes so far. */
  private rewrite: ((body: Buffer, status: number) => Buffer) | undefined;
  private response: Buffer | undefined;

  constructor(
    private readonly client: Socket,
    private readonly options: GatewayListenerOptions,
  ) {
    client.setNoDelay(true);
    client.on('data', (chunk: Buffer) => this.onData(chunk));
    client.on('end', () => {
      if (this.backend) this.backend.end();
      else client.end();
    });
    client.on('error', () => this.backend?.destroy());
    client.on('close', () => this.backend?.destroy());
  }

  private onData(chunk: Buffer): void {
    this.pending = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    try {
      while (this.pending && !this.client.destroyed) {
        const request = this.next(this.pending);
        if (!request) return;
        this.pending = request.rest.length > 0 ? request.rest : undefined;
        this.handle(request.head, request.body, request.raw);
      }
    } catch (error: unknown) {
      const status = error instanceof FramingError ? error.status : 400;
      this.pending = undefined;
      this.client.end(
        serialize(
          {
            status,
            headers: { 'content-type': 'text/plain' },
            body: `${this.options.what} gateway: ${(error as Error).message}`,
          },
          false,
        ),
      );
    }
  }

  /** The next complete request in `buffer`, or undefined while it is incomplete. */
  private next(buffer: Buffer): { head: ParsedHead; body: Buffer; raw: Buffer; rest: Buffer } | undefined {
    const headEnd = buffer.indexOf(HEAD_END);
    if (headEnd < 0) {
      if (buffer.length > MAX_HEAD_BYTES) throw new FramingError(431, `request head over ${MAX_HEAD_BYTES} bytes`);
      return undefined;
    }
    const head = parseHead(buffer.toString('latin1', 0, headEnd));
    const bodyStart = headEnd + 4;
    let end: number;
    let body: Buffer;
    if (head.headers['transfer-encoding']?.toLowerCase().includes('chunked')) {
      const chunked = readChunked(buffer, bodyStart);
      if (!chunked) return this.incomplete(head);
      end = chunked.end;
      body = chunked.body;
    } else {
      const length = head.headers['content-length'] === undefined ? 0 : Number(head.headers['content-length']);
      if (!Number.isInteger(length) || length < 0)
        throw new FramingError(400, `content-length ${head.headers['content-length']} is not a byte count`);
      if (length > MAX_BODY_BYTES) throw new FramingError(413, `request body over ${MAX_BODY_BYTES} bytes`);
      end = bodyStart + length;
      if (buffer.length < end) return this.incomplete(head);
      body = buffer.subarray(bodyStart, end);
    }
    if (head.headers['content-encoding']?.toLowerCase() === 'gzip' && body.length > 0) body = gunzipSync(body);
    return { head, body, raw: buffer.subarray(0, end), rest: buffer.subarray(end) };
  }

  /** A request whose body has not all arrived: a client that sent `Expect: 100-continue` waits to be told to go on. */
  private incomplete(head: ParsedHead): undefined {
    if (!this.continued && head.headers.expect?.toLowerCase() === '100-continue') {
      this.continued = true;
      this.client.write(CONTINUE);
    }
    return undefined;
  }

  private handle(head: ParsedHead, body: Buffer, raw: Buffer): void {
    this.continued = false;
    // A web page's request is refused before anything reads it (services/browser-guard.ts).
    const refusal = browserRefusal(head.headers);
    const verdict: Verdict = refusal
      ? { forward: false, response: refusalResponse(refusal) }
      : this.options.inspect({ method: head.method, url: head.url, headers: head.headers, body });
    if (!verdict.forward) {
      const keepAlive = !(head.headers.connection?.toLowerCase() === 'close' || head.version === 'HTTP/1.0');
      const bytes = serialize(verdict.response, keepAlive);
      if (keepAlive) this.client.write(bytes);
      else this.client.end(bytes);
      return;
    }
    const backend = this.backend ?? this.openBackend();
    this.awaitingStart = true;
    this.onStatus = verdict.onStatus;
    this.statusPrefix = undefined;
    this.rewrite = verdict.rewriteResponse;
    this.response = undefined;
    let written: boolean;
    if (verdict.body) {
      // The client's framing and encoding no longer apply (and its Expect has been answered, or not asked).
      const replaced = Object.keys(verdict.headers ?? {});
      const lines = head.text
        .split('\r\n')
        .filter(
          (line, i) =>
            i === 0 ||
            (!/^(content-length|transfer-encoding|content-encoding|expect)\s*:/i.test(line) &&
              !replaced.includes(line.slice(0, line.indexOf(':')).trim().toLowerCase())),
        );
      if (verdict.url !== undefined) lines[0] = `${head.method} ${verdict.url} ${head.version}`;
      for (const [name, value] of Object.entries(verdict.headers ?? {})) lines.push(`${name}: ${value}`);
      lines.push(`content-length: ${verdict.body.length}`);
      written = backend.write(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), verdict.body]));
    } else if (head.headers.expect !== undefined) {
      // The client has been told to continue (or sent its body anyway); the backend must not answer 100 again.
      const lines = head.text.split('\r\n').filter((line, i) => i === 0 || !/^expect\s*:/i.test(line));
      const headBytes = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
      written = backend.write(Buffer.concat([headBytes, raw.subarray(raw.indexOf(HEAD_END) + 4)]));
    } else written = backend.write(raw);
    if (!written) {
      this.client.pause();
      backend.once('drain', () => this.client.resume());
    }
  }

  private openBackend(): Socket {
    const backend = connect({ port: this.options.backendPort, host: '127.0.0.1' });
    this.backend = backend;
    backend.setNoDelay(true);
    backend.on('data', (chunk: Buffer) => {
      if (this.awaitingStart) this.readStatus(chunk);
      if (this.rewrite) {
        this.collect(chunk, false);
        return;
      }
      if (!this.client.write(chunk)) {
        backend.pause();
        this.client.once('drain', () => backend.resume());
      }
    });
    backend.on('end', () => {
      if (this.rewrite && this.response) this.collect(Buffer.alloc(0), true);
      this.client.end();
    });
    backend.on('error', (error: NodeJS.ErrnoException) => {
      if (this.awaitingStart && !this.client.destroyed) {
        this.awaitingStart = false;
        this.client.end(
          serialize(
            {
              status: 502,
              headers: { 'content-type': 'text/plain' },
              body: `${this.options.what} gateway: the ${this.options.what} backend on port ${this.options.backendPort} failed: ${error.message}`,
            },
            false,
          ),
        );
      } else this.client.destroy();
      this.options.onError?.(error);
    });
    backend.on('close', () => {
      if (!this.client.destroyed && this.client.writable) this.client.end();
    });
    return backend;
  }

  /**
   * Reads the response a verdict asked to rewrite until it is complete (by Content-Length, chunks, or the backend
   * closing), then sends the client the rewritten response. A response it cannot frame goes on unchanged.
   */
  private collect(chunk: Buffer, ended: boolean): void {
    const bytes = this.response ? Buffer.concat([this.response, chunk]) : chunk;
    const rewrite = this.rewrite as (body: Buffer, status: number) => Buffer;
    let complete: { head: string; body: Buffer; end: number } | undefined;
    try {
      complete = completeResponse(bytes, ended);
    } catch (error: unknown) {
      this.options.onError?.(error);
      this.rewrite = undefined;
      this.response = undefined;
      this.client.write(bytes);
      return;
    }
    if (!complete) {
      this.response = bytes;
      return;
    }
    this.rewrite = undefined;
    this.response = undefined;
    const { head, end } = complete;
    let { body } = complete;
    const gzipped = /\r\ncontent-encoding\s*:\s*gzip/i.test(head);
    if (gzipped) body = gunzipSync(body);
    const rewritten = rewrite(body, Number(head.slice(9, 12)));
    if (rewritten === body && !gzipped) this.client.write(bytes.subarray(0, end));
    else {
      const lines = head.split('\r\n');
      const crc = lines.some((line) => /^x-amz-crc32\s*:/i.test(line));
      const kept = lines.filter(
        (line, i) => i === 0 || !/^(content-length|transfer-encoding|content-encoding|x-amz-crc32)\s*:/i.test(line),
      );
      kept.push(`content-length: ${rewritten.length}`);
      if (crc) kept.push(`x-amz-crc32: ${crc32(rewritten)}`);
      this.client.write(Buffer.concat([Buffer.from(`${kept.join('\r\n')}\r\n\r\n`, 'latin1'), rewritten]));
    }
    if (end < bytes.length) this.client.write(bytes.subarray(end));
  }

  /** The status code from the start of a response (`HTTP/1.1 200 ...`), which may arrive split. */
  private readStatus(chunk: Buffer): void {
    const bytes = this.statusPrefix ? Buffer.concat([this.statusPrefix, chunk]) : chunk;
    if (bytes.length < 12) {
      this.statusPrefix = bytes;
      return;
    }
    this.statusPrefix = undefined;
    this.awaitingStart = false;
    const status = Number(bytes.toString('latin1', 9, 12));
    const onStatus = this.onStatus;
    this.onStatus = undefined;
    if (onStatus)
      try {
        onStatus(status);
      } catch (error: unknown) {
        this.options.onError?.(error);
      }
  }
}

/**
 * A whole response in `buffer` (its head, decoded body and end), or undefined while incomplete: framed by
 * Content-Length, by chunks, or (neither) by the backend closing the connection (`ended`).
 * https://www.rfc-editor.org/rfc/rfc9112#section-6.3
 */
function completeResponse(buffer: Buffer, ended: boolean): { head: string; body: Buffer; end: number } | undefined {
  const headEnd = buffer.indexOf(HEAD_END);
  if (headEnd < 0) {
    if (ended || buffer.length > MAX_HEAD_BYTES) throw new FramingError(502, 'a response head without its end');
    return undefined;
  }
  const head = buffer.toString('latin1', 0, headEnd);
  const bodyStart = headEnd + 4;
  if (/\r\ntransfer-encoding\s*:[^\r]*chunked/i.test(head)) {
    const chunked = readChunked(buffer, bodyStart);
    if (!chunked && ended) throw new FramingError(502, 'a chunked response cut short');
    return chunked && { head, body: chunked.body, end: chunked.end };
  }
  const length = /\r\ncontent-length\s*:\s*(\d+)/i.exec(head)?.[1];
  if (length === undefined) return ended ? { head, body: buffer.subarray(bodyStart), end: buffer.length } : undefined;
  const end = bodyStart + Number(length);
  if (buffer.length < end) {
    if (ended) throw new FramingError(502, 'a response shorter than its Content-Length');
    return undefined;
  }
  return { head, body: buffer.subarray(bodyStart, end), end };
}

/** Starts a gateway listener on 127.0.0.1:`port` in front of `options.backendPort`. */
export async function startGatewayListener(port: number, options: GatewayListenerOptions): Promise<GatewayListener> {
  const sockets = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    new Connection(socket, options);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          error.code === 'EADDRINUSE'
            ? `port ${port} for the ${options.what} endpoint is already in use; choose another or stop what holds it`
            : `${options.what} endpoint: ${error.message}`,
          { cause: error },
        ),
      ),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  return {
    endpoint: `http://127.0.0.1:${actual}`,
    port: actual,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
