import type { IncomingMessage } from 'node:http';
import type { Principal } from '../iam/authorizer.ts';
import type { ArnScope } from './dynamodb.ts';
import type { Endpoint, Enforcer, Permission } from './enforcer.ts';
import { type ErrorResponse, lambdaError, UNSIGNED_MESSAGE } from './errors.ts';
import { assumedRoleArn } from './principals.ts';
import { credentialOf } from './sigv4.ts';

/**
 * Authorization of the two endpoints the runtime serves itself (Lambda, CloudWatch): the gateway check runs inside
 * their request handlers, before anything is served, instead of in a proxy in front of them.
 */

/** The Lambda endpoint's check of a route; undefined: serve it. */
export type LambdaGate = (request: IncomingMessage, route: LambdaRoute) => ErrorResponse | undefined;

export type LambdaRoute =
  /** `POST /2015-03-31/functions/{FunctionName}/invocations`: the name, a partial or a full ARN, maybe qualified. */
  | { readonly kind: 'invoke'; readonly functionName: string }
  /**
   * Another Lambda API call: GetFunction and GetFunctionConfiguration act on the function (`functionName`),
   * Get/UpdateEventSourceMapping on the mapping (`arn:aws:lambda:REGION:ACCOUNT:event-source-mapping:UUID`); ListFunctions
   * and ListEventSourceMappings have no resource type (`*`), per the Service Authorization Reference for AWS Lambda
   * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html).
   */
  | {
      readonly kind: 'api';
      readonly action:
        | 'lambda:GetFunction'
        | 'lambda:GetFunctionConfiguration'
        | 'lambda:ListFunctions'
        | 'lambda:ListEventSourceMappings'
        | 'lambda:GetEventSourceMapping'
        | 'lambda:UpdateEventSourceMapping';
      readonly functionName?: string;
      readonly mappingUuid?: string;
    }
  /** `/_local/...`: fault injection and the denials log, the local administrator's. */
  | { readonly kind: 'local'; readonly path: string };

/** `name`, `name:qualifier`, `ACCOUNT:function:name` or a full ARN → the function's ARN (qualifier kept). */
export function functionArn(functionName: string, scope: ArnScope): string {
  if (functionName.startsWith('arn:')) return functionName;
  const marker = functionName.indexOf(':function:');
  if (marker >= 0)
    return `arn:aws:lambda:${scope.region}:${functionName.slice(0, marker)}:function:${functionName.slice(marker + 10)}`;
  return `arn:aws:lambda:${scope.region}:${scope.account}:function:${functionName}`;
}

export function lambdaGate(enforcer: Enforcer, scope: ArnScope): LambdaGate {
  return (request, route) => {
    const principal = enforcer.principalOf(credentialOf(request.headers.authorization, request.url));
    if (route.kind === 'local') {
      // Unsigned calls (curl, `npm run fault`) and administrator keys may use the local routes; a role may not.
      if (principal === undefined || principal.kind === 'admin') return undefined;
      const action = `local:${request.method ?? 'GET'}`;
      const message = `User: ${principal.kind === 'role' ? assumedRoleArn(principal) : principal.service} is not authorized to perform: ${action} on resource: ${route.path} because the local administration routes are the account administrator's`;
      enforcer.denials.record({
        time: new Date().toISOString(),
        principal: principal.kind === 'role' ? assumedRoleArn(principal) : principal.service,
        ...(principal.kind === 'role' ? { role: principal.logicalId } : {}),
        action,
        resource: route.path,
        reason: 'local-admin-route',
        message,
        endpoint: 'lambda',
      });
      return lambdaError('denied', message);
    }
    const permission: Permission =
      route.kind === 'invoke'
        ? { action: 'lambda:InvokeFunction', resource: functionArn(route.functionName, scope) }
        : {
            action: route.action,
            resource:
              route.mappingUuid !== undefined
                ? `arn:aws:lambda:${scope.region}:${scope.account}:event-source-mapping:${route.mappingUuid}`
                : route.functionName === undefined
                  ? '*'
                  : functionArn(route.functionName, scope),
          };
    if (!principal) {
      enforcer.recordUnsigned(permission, 'lambda');
      return lambdaError('unsigned', '');
    }
    const decision = enforcer.authorize(principal, permission, 'lambda');
    return decision.allowed ? undefined : lambdaError('denied', decision.message);
  };
}

/**
 * Why the CloudWatch endpoint refuses a request: its error code and message, which the endpoint writes in the protocol
 * the client speaks (an XML `ErrorResponse` for the query protocol, JSON or CBOR with `x-amzn-query-error` otherwise).
 */
export interface CloudWatchRefusal {
  readonly code: 'AccessDenied' | 'MissingAuthenticationToken';
  readonly message: string;
}

/**
 * The CloudWatch endpoint's check of an operation, whichever protocol carried it (`input` is the parsed request, in
 * the API's member names); `compositeAlarms` says whether DescribeAlarms may return them.
 */
export type CloudWatchGate = (
  request: IncomingMessage,
  operation: string,
  input: Readonly<Record<string, unknown>>,
) => { readonly refusal: CloudWatchRefusal } | { readonly refusal?: undefined; readonly compositeAlarms: boolean };

const NO_RESOURCE = new Set([
  'PutMetricData',
  'GetMetricData',
  'ListMetrics',
  'GetMetricStatistics',
  'ListDashboards',
  'DescribeAlarmsForMetric',
]);

/**
 * The permissions of a CloudWatch operation, per the Service Authorization Reference for Amazon CloudWatch
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html): PutMetricData,
 * GetMetricData and ListMetrics have no resource type (`*`; PutMetricData carries `cloudwatch:namespace`);
 * DescribeAlarms acts on alarms: each of `AlarmNames`, else the alarms the prefix (or nothing) selects, as an ARN
 * pattern (`arn:aws:cloudwatch:REGION:ACCOUNT:alarm:PREFIX*`).
 */
export function cloudWatchPermissions(
  operation: string,
  input: Readonly<Record<string, unknown>>,
  scope: ArnScope,
): Permission[] {
  const action = `cloudwatch:${operation}`;
  const alarm = (name: string) => `arn:aws:cloudwatch:${scope.region}:${scope.account}:alarm:${name}`;
  if (operation === 'PutMetricData')
    return [
      {
        action,
        resource: '*',
        ...(typeof input.Namespace === 'string' ? { context: { 'cloudwatch:namespace': input.Namespace } } : {}),
      },
    ];
  if (NO_RESOURCE.has(operation)) return [{ action, resource: '*' }];
  // Dashboards are global: `arn:aws:cloudwatch::ACCOUNT:dashboard/NAME`, no region.
  if (operation === 'GetDashboard')
    return [
      { action, resource: `arn:aws:cloudwatch::${scope.account}:dashboard/${String(input.DashboardName ?? '')}` },
    ];
  if (operation === 'DescribeAlarms') {
    const names = input.AlarmNames;
    if (Array.isArray(names) && names.length > 0)
      return names.map((name) => ({ action, resource: alarm(String(name)) }));
    const prefix = typeof input.AlarmNamePrefix === 'string' ? input.AlarmNamePrefix : '';
    return [{ action, resource: alarm(`${prefix}*`) }];
  }
  const names = Array.isArray(input.AlarmNames)
    ? input.AlarmNames
    : typeof input.AlarmName === 'string'
      ? [input.AlarmName]
      : [];
  return names.length > 0
    ? names.map((name) => ({ action, resource: alarm(String(name)) }))
    : [{ action, resource: '*' }];
}

export function cloudWatchGate(enforcer: Enforcer, scope: ArnScope): CloudWatchGate {
  return (request, operation, input) => {
    const permissions = cloudWatchPermissions(operation, input, scope);
    const principal: Principal | undefined = enforcer.principalOf(
      credentialOf(request.headers.authorization, request.url),
    );
    if (!principal) {
      enforcer.recordUnsigned(permissions[0], 'cloudwatch');
      return { refusal: { code: 'MissingAuthenticationToken', message: UNSIGNED_MESSAGE } };
    }
    const denied = enforcer.authorizeAll(principal, permissions, 'cloudwatch');
    if (denied) return { refusal: { code: 'AccessDenied', message: denied.message } };
    // "To use this operation and return information about composite alarms, you must be signed on with the
    // cloudwatch:DescribeAlarms permission that is scoped to *" (DescribeAlarms, CloudWatch API reference); the same
    // holds for DescribeAlarmHistory with cloudwatch:DescribeAlarmHistory.
    const types = input.AlarmTypes;
    const wantsComposite =
      (operation === 'DescribeAlarms' || operation === 'DescribeAlarmHistory') &&
      Array.isArray(types) &&
      types.includes('CompositeAlarm');
    const compositeAlarms =
      !wantsComposite ||
      enforcer.authorize(principal, { action: `cloudwatch:${operation}`, resource: '*' }, 'cloudwatch').allowed;
    return { compositeAlarms };
  };
}

/**
 * The AWS JSON services served beside CloudWatch (`logs/api.ts`, `cloudtrail/api.ts`): one action on one resource
 * (`logs:FilterLogEvents` on `arn:aws:logs:REGION:ACCOUNT:log-group:NAME`, `cloudtrail:LookupEvents` on `*`, as the
 * Service Authorization Reference lists them). Answers the refusal's JSON error code and message, or undefined when
 * allowed.
 */
export function actionGate(
  enforcer: Enforcer,
  endpoint: Endpoint,
): (request: IncomingMessage, action: string, resource: string) => { code: string; message: string } | undefined {
  return (request, action, resource) => {
    const permission: Permission = { action, resource };
    const principal = enforcer.principalOf(credentialOf(request.headers.authorization, request.url));
    if (!principal) {
      enforcer.recordUnsigned(permission, endpoint);
      return { code: 'MissingAuthenticationTokenException', message: UNSIGNED_MESSAGE };
    }
    const decision = enforcer.authorize(principal, permission, endpoint);
    return decision.allowed ? undefined : { code: 'AccessDeniedException', message: decision.message };
  };
}
