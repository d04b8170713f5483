import type { LocalIam } from '../gateway/index.ts';
import type { LambdaService } from '../lambda/lambda-service.ts';
import { freePort } from '../services/ports.ts';
import type { LocalResourceValue, ResolveContext } from '../template/intrinsics.ts';
import type { LoadedTemplate } from '../template/local-plan.ts';
import { type ConsoleSiteServer, startConsoleSite } from './console-site.ts';
import { type CognitoEndpoint, type IssuedToken, startCognitoEndpoint, TokenIssuer } from './issuer.ts';
import { type HttpApiServer, startHttpApiServer } from './server.ts';
import {
  type ConsoleSiteSpec,
  consoleSiteSpec,
  frontResources,
  type HttpApiSpec,
  httpApiSpecs,
  userPoolSpecs,
} from './template.ts';

export { type CognitoEndpoint, type IssuedToken, TokenIssuer, TokenIssuerError } from './issuer.ts';
export { type HttpApiServer, selectRoute } from './server.ts';
export {
  consoleSiteSpec,
  frontResources,
  HTTP_API_MAX_INTEGRATION_TIMEOUT_MS,
  type HttpApiSpec,
  httpApiSpecs,
  localIds,
  type UserPoolSpec,
  userPoolSpecs,
} from './template.ts';

/**
 * The ops toolkit's front as deployed, locally: the template's HTTP APIs (API Gateway), the console site (CloudFront
 * and the S3 bucket), and the Cognito user pools' token issuer. `planFront` picks the ports and the local values of
 * those resources before anything resolves them (the functions' environment, the roles' policies); `startFront` serves
 * them once the Lambda endpoint runs.
 */

type Names = Omit<ResolveContext, 'resources'>;

/** The only variable a function gets that the template does not give it: where Cognito's JWKS is served locally. */
export const COGNITO_ENDPOINT_VARIABLE = 'AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER';

export interface FrontPorts {
  /** The HTTP API (the first one of the template, if it has several; the others get free ports). */
  readonly api?: number;
  readonly console?: number;
  readonly cognito?: number;
}

export interface FrontPlan {
  readonly apiEndpoints: ReadonlyMap<string, string>;
  readonly consoleDomain?: string;
  readonly cognitoEndpoint: string;
  /** The local values of the front's resources, for the runtime's resolve context. */
  readonly resources: ReadonlyMap<string, LocalResourceValue>;
  readonly ports: { readonly apis: ReadonlyMap<string, number>; readonly console?: number; readonly cognito: number };
}

export async function planFront(loaded: LoadedTemplate, names: Names, ports: FrontPorts = {}): Promise<FrontPlan> {
  const apiPorts = new Map<string, number>();
  const apiIds = Object.entries(loaded.template.Resources)
    .filter(([, r]) => r.Type === 'AWS::ApiGatewayV2::Api')
    .map(([id]) => id);
  for (const [i, id] of apiIds.entries()) apiPorts.set(id, i === 0 && ports.api ? ports.api : await freePort());
  const distribution = Object.entries(loaded.template.Resources).find(
    ([, r]) => r.Type === 'AWS::CloudFront::Distribution',
  )?.[0];
  const consolePort = distribution ? (ports.console ?? (await freePort())) : undefined;
  const cognitoPort = ports.cognito ?? (await freePort());
  const apiEndpoints = new Map([...apiPorts].map(([id, port]) => [id, `http://127.0.0.1:${port}`]));
  const consoleDomain = consolePort ? `127.0.0.1:${consolePort}` : undefined;
  const resources = frontResources(loaded, names, {
    apis: apiEndpoints,
    distributions: new Map(distribution && consoleDomain ? [[distribution, consoleDomain]] : []),
  });
  return {
    apiEndpoints,
    ...(consoleDomain ? { consoleDomain } : {}),
    cognitoEndpoint: `http://127.0.0.1:${cognitoPort}`,
    resources,
    ports: { apis: apiPorts, ...(consolePort ? { console: consolePort } : {}), cognito: cognitoPort },
  };
}

/**
 * The local front serves plain HTTP, so a URL the template builds as `https://` + a local endpoint's host (a
 * distribution's DomainName, `127.0.0.1:<port>`) is the `http://` URL of that endpoint.
 */
export function plainHttpForLocalHosts(value: string, plan: FrontPlan): string {
  return plan.consoleDomain ? value.split(`https://${plan.consoleDomain}`).join(`http://${plan.consoleDomain}`) : value;
}

/**
 * An API whose CORS origins name the console distribution (`https://` + its DomainName) allows the local console's
 * `http://` origin instead: the browser sends the origin the console is served from, and locally that is plain HTTP.
 */
export function withLocalOrigins(spec: HttpApiSpec, plan: FrontPlan): HttpApiSpec {
  if (!spec.cors) return spec;
  return {
    ...spec,
    cors: { ...spec.cors, allowOrigins: spec.cors.allowOrigins.map((origin) => plainHttpForLocalHosts(origin, plan)) },
  };
}

/**
 * The console's `config.json` as deployed, but for the sign-in: in AWS the console sends the operator to the Cognito
 * hosted UI (`auth.mode: cognito`), which does not run locally; locally it asks for an access token of the local
 * issuer (`auth.mode: local`; runtime.json's tokens are such tokens). Everything else is the deployed value, resolved:
 * the API it talks to (`apiBaseUrl`, the local HTTP API) and the user pool, app client and region the tokens are
 * issued for (the local issuer's pool; the console reads them only in `cognito` mode).
 */
export function localSignIn(key: string, body: Buffer): Buffer {
  if (key !== 'config.json') return body;
  const config = JSON.parse(body.toString('utf8')) as { auth?: { mode?: string } };
  if (config.auth?.mode !== 'cognito') return body;
  return Buffer.from(JSON.stringify({ ...config, auth: { ...config.auth, mode: 'local' } }));
}

/**
 * The console's Content-Security-Policy with each AWS host it names replaced by the local endpoint standing in for it,
 * so that the console is held to the template's policy while it talks to the local front: an execute-api host of the
 * region (`https://*.execute-api.<region>.amazonaws.com`, or one API's) becomes the local HTTP APIs' endpoints, the
 * Cognito user pools' host (`https://cognito-idp.<region>.amazonaws.com`) the local Cognito endpoint, and the console
 * distribution's `https://` origin its `http://` one. Other sources (the hosted UI's domain, which does not run
 * locally) are left as they are.
 */
export function localContentSecurityPolicy(policy: string, plan: FrontPlan, region: string): string {
  const apiIds = new Map(
    [...plan.apiEndpoints].map(([logicalId, endpoint]) => [plan.resources.get(logicalId)?.ref, endpoint]),
  );
  const escapedRegion = region.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const executeApi = new RegExp(`^https://([^./]+)\\.execute-api\\.${escapedRegion}\\.amazonaws\\.com(\\.cn)?/?$`);
  const cognito = new RegExp(`^https://cognito-idp\\.${escapedRegion}\\.amazonaws\\.com(\\.cn)?/?$`);
  const local = (source: string): string[] => {
    const api = executeApi.exec(source);
    if (api) {
      if (api[1] === '*') return [...plan.apiEndpoints.values()];
      const endpoint = apiIds.get(api[1]);
      return endpoint ? [endpoint] : [source];
    }
    if (cognito.test(source)) return [plan.cognitoEndpoint];
    return [plainHttpForLocalHosts(source, plan)];
  };
  return policy
    .split(';')
    .map((directive) => directive.trim())
    .filter(Boolean)
    .map((directive) => {
      const [name = '', ...sources] = directive.split(/\s+/);
      return [name, ...[...new Set(sources.flatMap(local))]].join(' ');
    })
    .join('; ');
}

/** The console site with its response headers policy's Content-Security-Policy made local. */
export function withLocalPolicy(site: ConsoleSiteSpec, plan: FrontPlan, region: string): ConsoleSiteSpec {
  if (!site.responseHeaders) return site;
  return {
    ...site,
    responseHeaders: {
      ...site.responseHeaders,
      headers: site.responseHeaders.headers.map((header) =>
        header.name === 'content-security-policy'
          ? { ...header, value: localContentSecurityPolicy(header.value, plan, region) }
          : header,
      ),
    },
  };
}

export interface LocalFront {
  readonly issuer: TokenIssuer;
  readonly cognito: CognitoEndpoint;
  /** By API logical id. */
  readonly apis: ReadonlyMap<string, HttpApiServer>;
  readonly console?: ConsoleSiteServer;
  /** An access token of the template's only user pool for `username` in `groups`. */
  token(username: string, groups: readonly string[]): IssuedToken;
  stop(): Promise<void>;
}

export async function startFront(options: {
  readonly loaded: LoadedTemplate;
  readonly context: ResolveContext;
  readonly plan: FrontPlan;
  readonly lambda: LambdaService;
  readonly iam: LocalIam;
  readonly onError: (error: unknown) => void;
}): Promise<LocalFront> {
  const { loaded, context, plan, lambda, iam } = options;
  const stoppers: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const stopper of stoppers.reverse()) await stopper().catch(options.onError);
  };
  try {
    const issuer = new TokenIssuer(userPoolSpecs(loaded, context), context.region);
    const cognito = await startCognitoEndpoint(issuer, plan.ports.cognito);
    stoppers.push(() => cognito.stop());
    const apis = new Map<string, HttpApiServer>();
    for (const spec of httpApiSpecs(loaded, context).map((api) => withLocalOrigins(api, plan))) {
      const port = plan.ports.apis.get(spec.logicalId);
      if (port === undefined) continue;
      const server = await startHttpApiServer(
        {
          spec,
          region: context.region,
          account: context.account,
          keysOf: (issuerUrl) => issuer.keysOf(issuerUrl),
          invoke: (functionName, event) => lambda.invoke(functionName, event),
          authorize: (functionName, sourceArn) =>
            iam.authorize(
              { kind: 'service', service: 'apigateway.amazonaws.com' },
              {
                action: 'lambda:InvokeFunction',
                resource: lambda.arnOf(functionName),
                context: { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': context.account },
              },
              'lambda',
            ),
          onError: (message) => options.onError(new Error(message)),
        },
        port,
      );
      stoppers.push(() => server.stop());
      apis.set(spec.logicalId, server);
    }
    let consoleServer: ConsoleSiteServer | undefined;
    const site = consoleSiteSpec(loaded, context);
    if (site && plan.ports.console !== undefined) {
      consoleServer = await startConsoleSite(
        { spec: withLocalPolicy(site, plan, context.region), rewrite: localSignIn },
        plan.ports.console,
      );
      const started = consoleServer;
      stoppers.push(() => started.stop());
    }
    return {
      issuer,
      cognito,
      apis,
      ...(consoleServer ? { console: consoleServer } : {}),
      token: (username, groups) => issuer.issue({ username, groups }),
      stop,
    };
  } catch (error: unknown) {
    await stop();
    throw error;
  }
}
