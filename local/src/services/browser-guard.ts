/**
 * Local endpoints refuse the browser. The runtime's servers listen on 127.0.0.1 only, but a web page the developer
 * opens runs on this machine too: it can send requests to a loopback port (a form POST or a `text/plain` fetch needs
 * no CORS preflight, so the request is acted on even though the page cannot read the answer), and through DNS
 * rebinding (a name of the attacker's that first resolves to their server, then to 127.0.0.1) it can even read the
 * answers, since the browser then takes the endpoint for the page's own origin. Neither is a way AWS tools call an
 * endpoint: SDKs and CLIs send no `Origin` and name the endpoint's host. So every local server answers 403, before
 * anything else, a request that
 * - names a `Host` other than a loopback address or `localhost` (DNS rebinding: the browser sends the attacker's name),
 * - carries an `Origin` other than the ones a server allows (the console's own, for the ops API front), or
 * - says it comes from another site (`Sec-Fetch-Site: cross-site` or `same-site`, which browsers send even on
 *   requests without `Origin`).
 * The servers that stand for AWS's public front doors and serve the browser by design (the ops API's HTTP API, the
 * console's CloudFront site, the Cognito issuer) apply the Host rule only, and the HTTP API its own CORS origins (the
 * console's): a deep link from an alarm mail is a cross-site navigation to the console, and must work.
 */

const LOOPBACK_HOST = /^(?:127(?:\.\d{1,3}){3}|localhost|\[::1\])(?::\d{1,5})?$/i;

export interface BrowserRefusal {
  readonly status: 403;
  readonly reason: string;
}

/** Headers of a request, as Node gives them (lower-case names) or as the gateway reads them. */
type Headers = Readonly<Record<string, string | readonly string[] | undefined>>;

const first = (value: string | readonly string[] | undefined) =>
  (Array.isArray(value) ? value[0] : value) as string | undefined;

export interface BrowserGuardOptions {
  /** The browser origins this server serves (none for the AWS endpoints); a server serving navigations: `hostOnly`. */
  readonly allowOrigin?: (origin: string) => boolean;
  /** Only the Host rule (a site a browser navigates to from anywhere, such as the console). */
  readonly hostOnly?: boolean;
}

/** Why the request must be refused, or undefined when it may be served. */
export function browserRefusal(headers: Headers, options: BrowserGuardOptions = {}): BrowserRefusal | undefined {
  const host = first(headers.host);
  if (host === undefined || !LOOPBACK_HOST.test(host.trim()))
    return {
      status: 403,
      reason: `Host '${host ?? ''}' is not a loopback address: the local endpoints answer only requests addressed to 127.0.0.1, localhost or [::1] (a browser page reaching them through DNS rebinding names its own host)`,
    };
  if (options.hostOnly) return undefined;
  const origin = first(headers.origin);
  if (origin !== undefined && !(options.allowOrigin?.(origin) ?? false))
    return {
      status: 403,
      reason: `Origin '${origin}' is refused: the local endpoints serve AWS SDKs and CLIs, which send no Origin; a web page may not call them`,
    };
  const site = first(headers['sec-fetch-site']);
  if ((site === 'cross-site' || site === 'same-site') && origin === undefined)
    return {
      status: 403,
      reason: `Sec-Fetch-Site '${site}' is refused: a request from a web page of another site may not call the local endpoints`,
    };
  return undefined;
}

/** The refusal as a plain-text HTTP answer (every protocol's clients show the status and the text). */
export function refusalResponse(refusal: BrowserRefusal): {
  status: number;
  headers: Record<string, string>;
  body: string;
} {
  return { status: refusal.status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: refusal.reason };
}

/** Answers the refusal on a Node response; true when the request was refused (and must not be served). */
export function refuseBrowser(
  request: { readonly headers: Headers },
  response: { writeHead(status: number, headers: Record<string, string>): unknown; end(body: string): unknown },
  options: BrowserGuardOptions = {},
): boolean {
  const refusal = browserRefusal(request.headers, options);
  if (!refusal) return false;
  const answer = refusalResponse(refusal);
  response.writeHead(answer.status, answer.headers);
  response.end(answer.body);
  return true;
}
