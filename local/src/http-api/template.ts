import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CloudFormationTemplate,
  IntrinsicResolver,
  type LocalResourceValue,
  type ResolveContext,
  type TemplateResource,
} from '../template/intrinsics.ts';
import { type LoadedTemplate, TemplateError } from '../template/local-plan.ts';

/**
 * Reads what the local HTTP API front serves from the template: the HTTP APIs (AWS::ApiGatewayV2::Api with its
 * Route, Integration, Authorizer and Stage resources), the Cognito user pools whose tokens their JWT authorizers
 * accept, and the console site (an AWS::CloudFront::Distribution in front of an S3 bucket that
 * Custom::CDKBucketDeployment resources fill from cdk.out assets). What the front does not emulate is refused here,
 * naming the resource, rather than served differently from AWS.
 */

type Names = Omit<ResolveContext, 'resources'>;

/** API Gateway's integration timeout for HTTP APIs: 30 s, the default and the maximum (docs/AWS-FACTS.md, fact 14). */
export const HTTP_API_MAX_INTEGRATION_TIMEOUT_MS = 30_000;

export interface CorsSpec {
  readonly allowOrigins: readonly string[];
  readonly allowMethods: readonly string[];
  readonly allowHeaders: readonly string[];
  readonly exposeHeaders: readonly string[];
  readonly maxAge?: number;
  readonly allowCredentials: boolean;
}

export interface JwtAuthorizerSpec {
  readonly logicalId: string;
  readonly name: string;
  /** The request header the token is read from (`$request.header.Authorization` → `authorization`). */
  readonly header: string;
  readonly issuer: string;
  readonly audience: readonly string[];
}

export type RouteAuthorization =
  | { readonly type: 'NONE' }
  | { readonly type: 'JWT'; readonly authorizer: JwtAuthorizerSpec; readonly scopes: readonly string[] };

export interface HttpRouteSpec {
  readonly logicalId: string;
  /** `$default`, or `METHOD /path` with `{name}` and `{name+}` path variables (`ANY` for every method). */
  readonly routeKey: string;
  readonly authorization: RouteAuthorization;
  readonly integration: {
    readonly logicalId: string;
    /** The Lambda function's name (the template's physical name, as the Lambda endpoint knows it). */
    readonly functionName: string;
    readonly payloadFormatVersion: '2.0';
    readonly timeoutMs: number;
  };
}

export interface HttpApiSpec {
  readonly logicalId: string;
  readonly name: string;
  /** The API's id (`Ref`), as in `https://{apiId}.execute-api.{region}.amazonaws.com`. */
  readonly apiId: string;
  readonly cors?: CorsSpec;
  readonly routes: readonly HttpRouteSpec[];
  /** The `$default` stage; an API without a deployed stage serves nothing. */
  readonly stage: { readonly logicalId: string; readonly throttle?: { rateLimit: number; burstLimit: number } };
}

export interface UserPoolClientSpec {
  readonly logicalId: string;
  readonly clientId: string;
  readonly name: string;
  /** AccessTokenValidity in its TokenValidityUnits (Cognito's default: 60 minutes). */
  readonly accessTokenValiditySeconds: number;
  /** IdTokenValidity in its TokenValidityUnits (Cognito's default: 60 minutes). */
  readonly idTokenValiditySeconds: number;
  /** AllowedOAuthScopes, the access token's `scope` claim. */
  readonly scopes: readonly string[];
}

export interface UserPoolSpec {
  readonly logicalId: string;
  readonly userPoolId: string;
  /** `https://cognito-idp.{region}.amazonaws.com/{userPoolId}`: the tokens' `iss`. */
  readonly issuer: string;
  readonly groups: readonly string[];
  readonly clients: readonly UserPoolClientSpec[];
}

export interface BucketSourceSpec {
  /** The asset directory in cdk.out. */
  readonly dir: string;
  /** Marker → value, substituted into every file of the source at deploy (BucketDeployment's `Source.jsonData`). */
  readonly markers: Readonly<Record<string, string>>;
  readonly jsonEscape: boolean;
}

export interface BucketDeploymentSpec {
  readonly logicalId: string;
  readonly sources: readonly BucketSourceSpec[];
  /** Key prefix in the bucket (`DestinationBucketKeyPrefix`), without a leading `/`. */
  readonly prefix: string;
  /** `Exclude` patterns (`aws s3 sync --exclude`: `*` matches any characters, `/` included). */
  readonly exclude: readonly string[];
}

/** A header a response headers policy adds; `override`: replaces the origin's header of that name. */
export interface PolicyHeader {
  /** Lower case. */
  readonly name: string;
  readonly value: string;
  readonly override: boolean;
}

/** The AWS::CloudFront::ResponseHeadersPolicy of the default cache behaviour, as the headers it adds and removes. */
export interface ResponseHeadersSpec {
  readonly logicalId: string;
  readonly headers: readonly PolicyHeader[];
  /** Lower case. */
  readonly remove: readonly string[];
}

export interface ConsoleSiteSpec {
  /** The AWS::CloudFront::Distribution. */
  readonly logicalId: string;
  readonly bucketLogicalId: string;
  readonly defaultRootObject?: string;
  readonly errorResponses: readonly { errorCode: number; responseCode?: number; responsePagePath?: string }[];
  readonly deployments: readonly BucketDeploymentSpec[];
  readonly responseHeaders?: ResponseHeadersSpec;
}

function resourcesOf(template: CloudFormationTemplate, type: string): [string, TemplateResource][] {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

function props(resource: TemplateResource): Record<string, unknown> {
  return resource.Properties ?? {};
}

/** The logical id a property points at with `{Ref: id}`, else undefined. */
function refTarget(value: unknown): string | undefined {
  const ref = (value as { Ref?: unknown } | undefined)?.Ref;
  return typeof ref === 'string' ? ref : undefined;
}

/** The logical id of `{Fn::GetAtt: [id, attribute]}` (or `"id.attribute"`), else undefined. */
function getAttTarget(value: unknown): string | undefined {
  const getAtt = (value as { 'Fn::GetAtt'?: unknown } | undefined)?.['Fn::GetAtt'];
  if (Array.isArray(getAtt)) return String(getAtt[0]);
  if (typeof getAtt === 'string') return getAtt.split('.')[0];
  return undefined;
}

/** A stable identifier of `length` characters of `alphabet`, derived from the stack and logical id. */
function stableId(seed: string, length: number, alphabet: string): string {
  let out = '';
  let counter = 0;
  while (out.length < length) {
    for (const byte of createHash('sha256').update(`${seed}#${counter++}`).digest()) {
      // Rejection sampling keeps every character equally likely.
      if (byte < 256 - (256 % alphabet.length)) out += alphabet[byte % alphabet.length];
      if (out.length === length) break;
    }
  }
  return out;
}

const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** Local ids in AWS's formats, the same on every start (so runtime.json and logs stay comparable across runs). */
export const localIds = {
  /** An HTTP API id: 10 lowercase letters and digits. */
  api: (names: Names, logicalId: string) => stableId(`${names.stackName}/${logicalId}`, 10, LOWER_ALNUM),
  /** A user pool id: `{region}_` and 9 letters and digits. */
  userPool: (names: Names, logicalId: string) =>
    `${names.region}_${stableId(`${names.stackName}/${logicalId}`, 9, ALNUM)}`,
  /** An app client id: 26 lowercase letters and digits. */
  userPoolClient: (names: Names, logicalId: string) => stableId(`${names.stackName}/${logicalId}`, 26, LOWER_ALNUM),
  /** A CloudFront distribution id: `E` and 13 capital letters and digits. */
  distribution: (names: Names, logicalId: string) => `E${stableId(`${names.stackName}/${logicalId}`, 13, UPPER_ALNUM)}`,
};

/** Where the front listens: the API's execute-api endpoint and the console distribution's domain, locally. */
export interface FrontEndpoints {
  /** `http://127.0.0.1:<port>` per HTTP API logical id. */
  readonly apis: ReadonlyMap<string, string>;
  /** `127.0.0.1:<port>` per distribution logical id (a DomainName has no scheme). */
  readonly distributions: ReadonlyMap<string, string>;
}

/**
 * The local values (`Ref` and attributes, per the CloudFormation reference's "Return values") of the template's HTTP
 * APIs, Cognito user pools, app clients and domains, and CloudFront distributions, so that everything referring to them
 * (the ops API function's environment, its role's policies, the authorizer's issuer, the console's config.json)
 * resolves to the local front. Endpoints are known once the front's ports are; without them the attributes naming an
 * endpoint are left out (they then resolve to a placeholder).
 */
export function frontResources(
  loaded: LoadedTemplate,
  names: Names,
  endpoints?: FrontEndpoints,
): Map<string, LocalResourceValue> {
  const { template } = loaded;
  const resolver = new IntrinsicResolver(template, { ...names, resources: new Map() });
  const out = new Map<string, LocalResourceValue>();
  for (const [id] of resourcesOf(template, 'AWS::ApiGatewayV2::Api')) {
    const apiId = localIds.api(names, id);
    const endpoint = endpoints?.apis.get(id);
    out.set(id, { ref: apiId, attributes: { ApiId: apiId, ...(endpoint ? { ApiEndpoint: endpoint } : {}) } });
  }
  for (const [id] of resourcesOf(template, 'AWS::Cognito::UserPool')) {
    const poolId = localIds.userPool(names, id);
    const provider = `cognito-idp.${names.region}.amazonaws.com/${poolId}`;
    out.set(id, {
      ref: poolId,
      attributes: {
        Arn: `arn:aws:cognito-idp:${names.region}:${names.account}:userpool/${poolId}`,
        ProviderName: provider,
        ProviderURL: `https://${provider}`,
        UserPoolId: poolId,
      },
    });
  }
  for (const [id, resource] of resourcesOf(template, 'AWS::Cognito::UserPoolClient')) {
    const clientId = localIds.userPoolClient(names, id);
    const name = typeof props(resource).ClientName === 'string' ? String(props(resource).ClientName) : id;
    out.set(id, { ref: clientId, attributes: { ClientId: clientId, Name: name } });
  }
  for (const [id, resource] of resourcesOf(template, 'AWS::Cognito::UserPoolDomain')) {
    // Ref is the domain (the prefix of `<prefix>.auth.<region>.amazoncognito.com`, or a custom domain).
    const domain = resolver.resolveString(props(resource).Domain ?? id, `${id}.Domain`);
    out.set(id, { ref: domain, attributes: {} });
  }
  for (const [id] of resourcesOf(template, 'AWS::CloudFront::Distribution')) {
    const distributionId = localIds.distribution(names, id);
    const domain = endpoints?.distributions.get(id);
    out.set(id, { ref: distributionId, attributes: { Id: distributionId, ...(domain ? { DomainName: domain } : {}) } });
  }
  return out;
}

const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'ANY'];

/** Validates a route key as API Gateway does on CreateRoute (the parts the front relies on). */
function checkRouteKey(id: string, routeKey: string): void {
  if (routeKey === '$default') return;
  const match = /^([A-Z]+) (\/\S*)$/.exec(routeKey);
  if (!match || !HTTP_METHODS.includes(match[1] ?? ''))
    throw new TemplateError(`route ${id}: RouteKey ${routeKey} is neither $default nor "METHOD /path"`);
  const segments = (match[2] ?? '').split('/').slice(1);
  segments.forEach((segment, i) => {
    if (segment.endsWith('+}') && i !== segments.length - 1)
      throw new TemplateError(`route ${id}: a greedy path variable must be the last segment of ${routeKey}`);
  });
}

/** The function an AWS_PROXY integration invokes: a function ARN, or API Gateway's `.../functions/<arn>/invocations`. */
function integrationFunction(id: string, uri: string): string {
  const arn = /functions\/(arn:[^/]+)\/invocations$/.exec(uri)?.[1] ?? uri;
  const name = arn.includes(':function:') ? arn.split(':function:')[1]?.split(':')[0] : undefined;
  if (!name)
    throw new TemplateError(`integration ${id}: IntegrationUri ${uri} is not a Lambda function of the template`);
  return name;
}

/** The template's HTTP APIs as the local front serves them. */
export function httpApiSpecs(loaded: LoadedTemplate, context: ResolveContext): HttpApiSpec[] {
  const { template } = loaded;
  const resolver = new IntrinsicResolver(template, context);
  const ofApi = (type: string, apiId: string) =>
    resourcesOf(template, type).filter(
      ([id, resource]) => refTarget(props(resource).ApiId) === apiId && resolver.isCreated(resource, id),
    );
  const specs: HttpApiSpec[] = [];
  for (const [apiLogicalId, api] of resourcesOf(template, 'AWS::ApiGatewayV2::Api')) {
    if (!resolver.isCreated(api, apiLogicalId)) continue;
    const p = resolver.resolve(props(api), apiLogicalId) as Record<string, unknown>;
    if (p.ProtocolType !== 'HTTP')
      throw new TemplateError(
        `API ${apiLogicalId}: ProtocolType ${String(p.ProtocolType)} (only HTTP APIs run locally)`,
      );
    for (const quick of ['Target', 'RouteKey', 'Body', 'BodyS3Location'])
      if (p[quick] !== undefined)
        throw new TemplateError(`API ${apiLogicalId}: ${quick} is not read locally; declare routes as resources`);
    const cors = p.CorsConfiguration as Record<string, unknown> | undefined;
    const list = (value: unknown) => (Array.isArray(value) ? value.map(String) : []);

    const authorizers = new Map<string, JwtAuthorizerSpec>();
    for (const [id, resource] of ofApi('AWS::ApiGatewayV2::Authorizer', apiLogicalId)) {
      const a = resolver.resolve(props(resource), id) as Record<string, unknown>;
      if (a.AuthorizerType !== 'JWT')
        throw new TemplateError(`authorizer ${id}: AuthorizerType ${String(a.AuthorizerType)} (only JWT runs locally)`);
      const sources = list(a.IdentitySource);
      const header = /^\$request\.header\.(.+)$/.exec(sources[0] ?? '')?.[1];
      if (sources.length !== 1 || !header)
        throw new TemplateError(`authorizer ${id}: IdentitySource must be one $request.header.<name>`);
      const jwt = (a.JwtConfiguration ?? {}) as { Issuer?: unknown; Audience?: unknown };
      if (typeof jwt.Issuer !== 'string')
        throw new TemplateError(`authorizer ${id}: JwtConfiguration.Issuer is not set`);
      authorizers.set(id, {
        logicalId: id,
        name: typeof a.Name === 'string' ? a.Name : id,
        header: header.toLowerCase(),
        issuer: jwt.Issuer,
        audience: list(jwt.Audience),
      });
    }

    const integrations = new Map<string, HttpRouteSpec['integration']>();
    for (const [id, resource] of ofApi('AWS::ApiGatewayV2::Integration', apiLogicalId)) {
      const i = resolver.resolve(props(resource), id) as Record<string, unknown>;
      if (i.IntegrationType !== 'AWS_PROXY')
        throw new TemplateError(
          `integration ${id}: IntegrationType ${String(i.IntegrationType)} (only AWS_PROXY runs)`,
        );
      if (String(i.PayloadFormatVersion) !== '2.0')
        throw new TemplateError(`integration ${id}: PayloadFormatVersion ${String(i.PayloadFormatVersion)} (only 2.0)`);
      const timeout = i.TimeoutInMillis === undefined ? HTTP_API_MAX_INTEGRATION_TIMEOUT_MS : Number(i.TimeoutInMillis);
      if (!(timeout >= 50 && timeout <= HTTP_API_MAX_INTEGRATION_TIMEOUT_MS))
        throw new TemplateError(
          `integration ${id}: TimeoutInMillis must be 50..30000, got ${String(i.TimeoutInMillis)}`,
        );
      integrations.set(id, {
        logicalId: id,
        functionName: integrationFunction(id, String(i.IntegrationUri ?? '')),
        payloadFormatVersion: '2.0',
        timeoutMs: timeout,
      });
    }

    const routes: HttpRouteSpec[] = [];
    for (const [id, resource] of ofApi('AWS::ApiGatewayV2::Route', apiLogicalId)) {
      const raw = props(resource);
      const r = resolver.resolve(raw, id) as Record<string, unknown>;
      const routeKey = String(r.RouteKey ?? '');
      checkRouteKey(id, routeKey);
      const target = String(r.Target ?? '');
      const integrationId = /^integrations\/(.+)$/.exec(target)?.[1];
      const integration = integrationId ? integrations.get(integrationId) : undefined;
      if (!integration)
        throw new TemplateError(
          `route ${id}: Target ${target || '(none)'} is not an integration of API ${apiLogicalId}`,
        );
      const type = String(r.AuthorizationType ?? 'NONE');
      let authorization: RouteAuthorization;
      if (type === 'NONE') authorization = { type: 'NONE' };
      else if (type === 'JWT') {
        const authorizerId = refTarget(raw.AuthorizerId) ?? String(r.AuthorizerId ?? '');
        const authorizer = authorizers.get(authorizerId);
        if (!authorizer) throw new TemplateError(`route ${id}: AuthorizerId ${authorizerId} is not a JWT authorizer`);
        authorization = { type: 'JWT', authorizer, scopes: list(r.AuthorizationScopes) };
      } else throw new TemplateError(`route ${id}: AuthorizationType ${type} (only NONE and JWT run locally)`);
      routes.push({ logicalId: id, routeKey, authorization, integration });
    }

    const stages = ofApi('AWS::ApiGatewayV2::Stage', apiLogicalId);
    const named = stages.filter(
      ([id, s]) => resolver.resolveString(props(s).StageName, `${id}.StageName`) !== '$default',
    );
    if (named.length > 0)
      throw new TemplateError(
        `API ${apiLogicalId}: stage ${named[0]?.[0]} is not $default (only $default runs locally)`,
      );
    const [stage] = stages;
    if (!stage) continue; // Not deployed: API Gateway serves an API only through a stage.
    const [stageId, stageResource] = stage;
    const s = resolver.resolve(props(stageResource), stageId) as Record<string, unknown>;
    const settings = (s.DefaultRouteSettings ?? {}) as {
      ThrottlingRateLimit?: unknown;
      ThrottlingBurstLimit?: unknown;
    };
    specs.push({
      logicalId: apiLogicalId,
      name: typeof p.Name === 'string' ? p.Name : apiLogicalId,
      apiId: context.resources.get(apiLogicalId)?.ref ?? localIds.api(context, apiLogicalId),
      ...(cors
        ? {
            cors: {
              allowOrigins: list(cors.AllowOrigins),
              allowMethods: list(cors.AllowMethods).map((m) => m.toUpperCase()),
              allowHeaders: list(cors.AllowHeaders).map((h) => h.toLowerCase()),
              exposeHeaders: list(cors.ExposeHeaders).map((h) => h.toLowerCase()),
              ...(cors.MaxAge === undefined ? {} : { maxAge: Number(cors.MaxAge) }),
              allowCredentials: cors.AllowCredentials === true || cors.AllowCredentials === 'true',
            },
          }
        : {}),
      routes,
      stage: {
        logicalId: stageId,
        ...(settings.ThrottlingRateLimit !== undefined && settings.ThrottlingBurstLimit !== undefined
          ? {
              throttle: {
                rateLimit: Number(settings.ThrottlingRateLimit),
                burstLimit: Number(settings.ThrottlingBurstLimit),
              },
            }
          : {}),
      },
    });
  }
  return specs;
}

/** Cognito's token validity units; the unit defaults to hours when TokenValidityUnits leaves it out. */
const UNIT_SECONDS: Record<string, number> = { seconds: 1, minutes: 60, hours: 3600, days: 86_400 };

/** The template's user pools with their groups and app clients: what the local token issuer signs for. */
export function userPoolSpecs(loaded: LoadedTemplate, context: ResolveContext): UserPoolSpec[] {
  const { template } = loaded;
  const resolver = new IntrinsicResolver(template, context);
  return resourcesOf(template, 'AWS::Cognito::UserPool')
    .filter(([id, resource]) => resolver.isCreated(resource, id))
    .map(([id]) => {
      const userPoolId = context.resources.get(id)?.ref ?? localIds.userPool(context, id);
      const ofPool = (type: string) =>
        resourcesOf(template, type).filter(([, resource]) => refTarget(props(resource).UserPoolId) === id);
      const groups = ofPool('AWS::Cognito::UserPoolGroup').map(([groupId, resource]) =>
        resolver.resolveString(props(resource).GroupName ?? groupId, `${groupId}.GroupName`),
      );
      const clients = ofPool('AWS::Cognito::UserPoolClient').map(([clientLogicalId, resource]): UserPoolClientSpec => {
        const c = resolver.resolve(props(resource), clientLogicalId) as Record<string, unknown>;
        const units = (c.TokenValidityUnits ?? {}) as { AccessToken?: string; IdToken?: string };
        const seconds = (validity: unknown, unit: string | undefined) =>
          validity === undefined ? 3600 : Number(validity) * (UNIT_SECONDS[unit ?? 'hours'] ?? 3600);
        return {
          logicalId: clientLogicalId,
          clientId: context.resources.get(clientLogicalId)?.ref ?? localIds.userPoolClient(context, clientLogicalId),
          name: typeof c.ClientName === 'string' ? c.ClientName : clientLogicalId,
          accessTokenValiditySeconds: seconds(c.AccessTokenValidity, units.AccessToken),
          idTokenValiditySeconds: seconds(c.IdTokenValidity, units.IdToken),
          scopes: Array.isArray(c.AllowedOAuthScopes) ? c.AllowedOAuthScopes.map(String) : [],
        };
      });
      return {
        logicalId: id,
        userPoolId,
        issuer: `https://cognito-idp.${context.region}.amazonaws.com/${userPoolId}`,
        groups,
        clients,
      };
    });
}

/**
 * The console site: the template's CloudFront distribution whose default behaviour serves an S3 bucket of the
 * template, and the BucketDeployments that fill that bucket from cdk.out assets. Undefined without a distribution.
 */
export function consoleSiteSpec(loaded: LoadedTemplate, context: ResolveContext): ConsoleSiteSpec | undefined {
  const { template } = loaded;
  const resolver = new IntrinsicResolver(template, context);
  const distributions = resourcesOf(template, 'AWS::CloudFront::Distribution').filter(([id, r]) =>
    resolver.isCreated(r, id),
  );
  if (distributions.length === 0) return undefined;
  if (distributions.length > 1)
    throw new TemplateError(`the template has ${distributions.length} CloudFront distributions; one runs locally`);
  const [[id, distribution]] = distributions as [[string, TemplateResource]];
  const config = (props(distribution).DistributionConfig ?? {}) as Record<string, unknown>;
  const behavior = (config.DefaultCacheBehavior ?? {}) as {
    TargetOriginId?: unknown;
    ResponseHeadersPolicyId?: unknown;
  };
  const origins = (Array.isArray(config.Origins) ? config.Origins : []) as Record<string, unknown>[];
  const origin = origins.find((o) => o.Id === behavior.TargetOriginId);
  const bucketLogicalId = getAttTarget(origin?.DomainName);
  if (!bucketLogicalId || template.Resources[bucketLogicalId]?.Type !== 'AWS::S3::Bucket')
    throw new TemplateError(`distribution ${id}: its default origin is not an S3 bucket of the template`);
  const deployments = resourcesOf(template, 'Custom::CDKBucketDeployment')
    .filter(([depId, r]) => resolver.isCreated(r, depId))
    .filter(([, r]) => refTarget(props(r).DestinationBucketName) === bucketLogicalId)
    .map(([depId, resource]): BucketDeploymentSpec => {
      const p = props(resource);
      const keys = (Array.isArray(p.SourceObjectKeys) ? p.SourceObjectKeys : []).map((key, i) =>
        resolver.resolveString(key, `${depId}.SourceObjectKeys[${i}]`),
      );
      const markers = (Array.isArray(p.SourceMarkers) ? p.SourceMarkers : []) as Record<string, unknown>[];
      const markerConfig = (Array.isArray(p.SourceMarkersConfig) ? p.SourceMarkersConfig : []) as {
        jsonEscape?: unknown;
      }[];
      const sources = keys.map((key, i): BucketSourceSpec => {
        const dir = loaded.assetDirs.get(key);
        if (!dir || !existsSync(dir) || !statSync(dir).isDirectory())
          throw new TemplateError(
            `bucket deployment ${depId}: asset ${key} is missing from ${loaded.dir}; run \`npm run build -w stack\` again`,
          );
        const resolved = Object.fromEntries(
          Object.entries(markers[i] ?? {}).map(([marker, value]) => [
            marker,
            resolver.resolveString(value, `${depId}.SourceMarkers[${i}].${marker}`),
          ]),
        );
        const jsonEscape = markerConfig[i]?.jsonEscape;
        return { dir, markers: resolved, jsonEscape: jsonEscape === true || jsonEscape === 'true' };
      });
      const prefix = p.DestinationBucketKeyPrefix === undefined ? '' : String(p.DestinationBucketKeyPrefix);
      return {
        logicalId: depId,
        sources,
        prefix: prefix.replace(/^\/+/, ''),
        exclude: Array.isArray(p.Exclude) ? p.Exclude.map(String) : [],
      };
    });
  const errors = (Array.isArray(config.CustomErrorResponses) ? config.CustomErrorResponses : []) as Record<
    string,
    unknown
  >[];
  const responseHeaders = responseHeadersSpec(loaded, resolver, id, behavior.ResponseHeadersPolicyId);
  return {
    logicalId: id,
    bucketLogicalId,
    ...(responseHeaders ? { responseHeaders } : {}),
    ...(typeof config.DefaultRootObject === 'string' ? { defaultRootObject: config.DefaultRootObject } : {}),
    errorResponses: errors.map((e) => ({
      errorCode: Number(e.ErrorCode),
      ...(e.ResponseCode === undefined ? {} : { responseCode: Number(e.ResponseCode) }),
      ...(typeof e.ResponsePagePath === 'string' ? { responsePagePath: e.ResponsePagePath } : {}),
    })),
    deployments,
  };
}

/** `join` for object keys: the prefix, then the relative path, with `/` separators. */
export function objectKey(prefix: string, relative: string): string {
  return join(prefix, relative).split('\\').join('/').replace(/^\/+/, '');
}

/**
 * The headers a response headers policy of the template adds to every response (CloudFormation reference,
 * "AWS::CloudFront::ResponseHeadersPolicy"; CloudFront developer guide, "Understand response headers policies",
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/understanding-response-headers-policies.html): the
 * security headers with CloudFront's values, custom headers, and headers removed. A managed policy (an id rather than a
 * resource of the template), a CORS configuration and Server-Timing are not served locally and are refused.
 */
function responseHeadersSpec(
  loaded: LoadedTemplate,
  resolver: IntrinsicResolver,
  distributionId: string,
  policyId: unknown,
): ResponseHeadersSpec | undefined {
  if (policyId === undefined) return undefined;
  const logicalId = refTarget(policyId);
  const resource = logicalId ? loaded.template.Resources[logicalId] : undefined;
  if (!logicalId || resource?.Type !== 'AWS::CloudFront::ResponseHeadersPolicy')
    throw new TemplateError(
      `distribution ${distributionId}: ResponseHeadersPolicyId ${JSON.stringify(policyId)} is not a response headers policy of the template (managed policies are not served locally)`,
    );
  const config = (resolver.resolve(props(resource).ResponseHeadersPolicyConfig ?? {}, logicalId) ?? {}) as Record<
    string,
    unknown
  >;
  for (const unsupported of ['CorsConfig', 'ServerTimingHeadersConfig'])
    if (config[unsupported] !== undefined)
      throw new TemplateError(`response headers policy ${logicalId}: ${unsupported} is not served locally`);
  const bool = (value: unknown) => value === true || value === 'true';
  const headers: PolicyHeader[] = [];
  const add = (name: string, value: string, override: unknown) =>
    headers.push({ name: name.toLowerCase(), value, override: bool(override) });
  type Setting = { Override?: unknown } & Record<string, unknown>;
  const security = (config.SecurityHeadersConfig ?? {}) as Record<string, Setting | undefined>;
  const csp = security.ContentSecurityPolicy;
  if (csp) add('content-security-policy', String(csp.ContentSecurityPolicy), csp.Override);
  if (security.ContentTypeOptions) add('x-content-type-options', 'nosniff', security.ContentTypeOptions.Override);
  const frame = security.FrameOptions;
  if (frame) add('x-frame-options', String(frame.FrameOption), frame.Override);
  const referrer = security.ReferrerPolicy;
  if (referrer) add('referrer-policy', String(referrer.ReferrerPolicy), referrer.Override);
  const hsts = security.StrictTransportSecurity;
  if (hsts)
    add(
      'strict-transport-security',
      [
        `max-age=${Number(hsts.AccessControlMaxAgeSec)}`,
        ...(bool(hsts.IncludeSubdomains) ? ['includeSubDomains'] : []),
        ...(bool(hsts.Preload) ? ['preload'] : []),
      ].join('; '),
      hsts.Override,
    );
  const xss = security.XSSProtection;
  if (xss)
    add(
      'x-xss-protection',
      bool(xss.Protection)
        ? [
            '1',
            ...(bool(xss.ModeBlock) ? ['mode=block'] : []),
            ...(xss.ReportUri ? [`report=${String(xss.ReportUri)}`] : []),
          ].join('; ')
        : '0',
      xss.Override,
    );
  const custom = (config.CustomHeadersConfig ?? {}) as {
    Items?: { Header?: unknown; Value?: unknown; Override?: unknown }[];
  };
  for (const item of custom.Items ?? []) add(String(item.Header), String(item.Value), item.Override);
  const removed = (config.RemoveHeadersConfig ?? {}) as { Items?: { Header?: unknown }[] };
  return {
    logicalId,
    headers,
    remove: (removed.Items ?? []).map((item) => String(item.Header).toLowerCase()),
  };
}
