import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export type Reply = { status?: number; body?: unknown; raw?: string };
export type Route = (request: RecordedRequest) => Reply | Promise<Reply>;

/**
 * A real HTTP server on a free loopback port that answers like the ops API from canned routes, so component tests
 * exercise the console's real client (fetch, headers, JSON, error bodies) without AWS. Routes are `METHOD /path`
 * with `:param` segments.
 */
export class FakeOpsApi {
  readonly requests: RecordedRequest[] = [];
  private readonly routes: { method: string; pattern: RegExp; route: Route }[] = [];
  private server: Server | undefined;
  baseUrl = '';

  on(spec: string, route: Route | Reply): this {
    const [method, path] = spec.split(' ') as [string, string];
    const pattern = new RegExp(`^${path.replace(/:[^/]+/g, '[^/]+')}$`);
    this.routes.unshift({ method, pattern, route: typeof route === 'function' ? route : () => route });
    return this;
  }

  async start(): Promise<this> {
    this.server = createServer(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      const request: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: text ? JSON.parse(text) : undefined,
      };
      this.requests.push(request);
      const match = this.routes.find((r) => r.method === request.method && r.pattern.test(request.path));
      const reply: Reply = match
        ? await match.route(request)
        : {
            status: 404,
            body: { statusCode: 404, error: 'Not Found', message: `no route ${request.method} ${request.path}` },
          };
      res.writeHead(reply.status ?? 200, { 'content-type': reply.raw ? 'text/html' : 'application/json' });
      res.end(reply.raw ?? (reply.body === undefined ? '' : JSON.stringify(reply.body)));
    });
    const server = this.server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  requestsTo(method: string, path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path === path);
  }
}
