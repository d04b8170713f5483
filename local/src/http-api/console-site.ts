import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, relative } from 'node:path';
import { refuseBrowser } from '../services/browser-guard.ts';
import { closeServer, listen } from '../services/http.ts';
import { type ConsoleSiteSpec, objectKey } from './template.ts';

/**
 * The console as CloudFront serves it from the bucket the template's BucketDeployments fill: the same asset
 * directories of cdk.out, their markers substituted as the deployment's Lambda does (`Source.jsonData`: the console's
 * `config.json` with the API endpoint and Cognito ids), the distribution's DefaultRootObject, and its
 * CustomErrorResponses for what the bucket does not hold (S3 answers 403 to a missing key without ListBucket, which
 * the console's single-page routing turns into `/index.html`).
 *
 * The default cache behaviour's response headers policy is added to every answer (its Content-Security-Policy with
 * the AWS hosts it names replaced by the local endpoints standing in for them, `localContentSecurityPolicy` in
 * index.ts), so the console runs under the policy it gets in AWS.
 *
 * Not emulated: caching, compression, the viewer protocol policy's redirect to HTTPS (the local front is plain HTTP, so
 * the browser ignores the Strict-Transport-Security header), signed requests to the bucket (origin access control).
 */

export interface ConsoleSiteOptions {
  readonly spec: ConsoleSiteSpec;
  /** Rewrites an object as deployed (the local `config.json`); returns the body to serve. */
  readonly rewrite?: (key: string, body: Buffer) => Buffer;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/vnd.microsoft.icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain',
  '.md': 'text/markdown',
};

interface SiteObject {
  readonly body: Buffer;
  readonly contentType: string;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

/** `aws s3 sync --exclude` patterns: `*` matches any run of characters (slashes included), `?` one character. */
function excluded(patterns: readonly string[], key: string): boolean {
  return patterns.some((pattern) =>
    new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    ).test(key),
  );
}

/** What the bucket holds after every deployment ran, key → object. */
export function bucketObjects(spec: ConsoleSiteSpec, rewrite?: (key: string, body: Buffer) => Buffer) {
  const objects = new Map<string, SiteObject>();
  for (const deployment of spec.deployments) {
    for (const source of deployment.sources) {
      for (const file of filesUnder(source.dir)) {
        const key = objectKey(deployment.prefix, file);
        if (excluded(deployment.exclude, file.split('\\').join('/'))) continue;
        let body = readFileSync(join(source.dir, file));
        const markers = Object.entries(source.markers);
        if (markers.length > 0) {
          let text = body.toString('utf8');
          for (const [marker, value] of markers)
            text = text.split(marker).join(source.jsonEscape ? JSON.stringify(value).slice(1, -1) : value);
          body = Buffer.from(text);
        }
        objects.set(key, {
          body: rewrite ? rewrite(key, body) : body,
          contentType: CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
        });
      }
    }
  }
  return objects;
}

export class ConsoleSite {
  private readonly objects: Map<string, SiteObject>;

  constructor(private readonly options: ConsoleSiteOptions) {
    this.objects = bucketObjects(options.spec, options.rewrite);
  }

  /** The object a viewer gets for a path, with CloudFront's status. */
  lookup(path: string): { status: number; object?: SiteObject } {
    const { spec } = this.options;
    let key: string;
    try {
      key = decodeURIComponent(path).replace(/^\/+/, '');
    } catch {
      key = path.replace(/^\/+/, '');
    }
    if (key === '' && spec.defaultRootObject) key = spec.defaultRootObject;
    const object = this.objects.get(key);
    if (object) return { status: 200, object };
    // Origin access control without s3:ListBucket: S3 answers 403 for a key it does not hold.
    const error = spec.errorResponses.find((e) => e.errorCode === 403);
    const page = error?.responsePagePath ? this.objects.get(error.responsePagePath.replace(/^\/+/, '')) : undefined;
    if (error && page) return { status: error.responseCode ?? 403, object: page };
    return { status: 403 };
  }

  /** The response headers policy applied to what the origin (or CloudFront) answers. */
  private withPolicy(headers: Record<string, string>): Record<string, string> {
    const policy = this.options.spec.responseHeaders;
    if (!policy) return headers;
    const out = { ...headers };
    for (const header of policy.headers) if (header.override || !(header.name in out)) out[header.name] = header.value;
    for (const name of policy.remove) delete out[name];
    return out;
  }

  handle(request: IncomingMessage, response: ServerResponse): void {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(403, this.withPolicy({ 'content-type': 'text/plain' }));
      response.end('This distribution is not configured to allow the HTTP request method that was used.');
      return;
    }
    const { status, object } = this.lookup((request.url ?? '/').split('?')[0] ?? '/');
    if (!object) {
      response.writeHead(status, this.withPolicy({ 'content-type': 'application/xml' }));
      response.end(
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>',
      );
      return;
    }
    response.writeHead(
      status,
      this.withPolicy({
        'content-type': object.contentType,
        'content-length': String(object.body.length),
        // BucketDeployment sets no Cache-Control; the viewer revalidates.
        'cache-control': 'no-cache',
      }),
    );
    response.end(request.method === 'HEAD' ? undefined : object.body);
  }
}

export interface ConsoleSiteServer {
  readonly url: string;
  readonly site: ConsoleSite;
  stop(): Promise<void>;
  readonly server: Server;
}

export async function startConsoleSite(options: ConsoleSiteOptions, port: number): Promise<ConsoleSiteServer> {
  const site = new ConsoleSite(options);
  const server = createServer((request, response) => {
    if (!refuseBrowser(request, response, { hostOnly: true })) site.handle(request, response);
  });
  await listen(server, port, 'console (CloudFront distribution)');
  return { url: `http://127.0.0.1:${port}/`, site, server, stop: () => closeServer(server) };
}
