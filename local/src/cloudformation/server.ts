import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Endpoint, Enforcer, Permission } from '../gateway/enforcer.ts';
import { credentialOf } from '../gateway/sigv4.ts';
import type { Principal } from '../iam/authorizer.ts';
import { refuseBrowser } from '../services/browser-guard.ts';
import { closeServer, listen } from '../services/http.ts';
import { QueryApiError } from '../sns/query-api-error.ts';
import {
  type QueryParams,
  queryParams,
  readBody,
  sendXml,
  type XmlValue,
  xmlError,
  xmlResponse,
} from '../sns/query-protocol.ts';
import type { LocalStack, StackResourceView } from './stack.ts';

/**
 * The local CloudFormation endpoint (`endpoints.cloudformation` in runtime.json): the read API of the one stack the
 * runtime runs, in the AWS query protocol CloudFormation speaks (botocore's `cloudformation/2010-05-15` model:
 * `"protocol": "query"`, namespace below; form-encoded `Action=...&Version=2010-05-15`, XML answers and
 * `ErrorResponse` errors, the helpers of the SNS endpoint). Served: DescribeStacks, DescribeStackResource,
 * DescribeStackResources, ListStackResources; nothing that creates, changes or deletes (docs/ARCHITECTURE.md).
 * Each request is authorized like the other local endpoints: unsigned is refused, `cloudformation:<Action>` is
 * evaluated on the stack's ARN for the caller (the administrator for any key that is not a role's).
 */
export const CLOUDFORMATION_XML_NAMESPACE = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';
export const CLOUDFORMATION_API_VERSION = '2010-05-15';
/** ListStackResources' page size (AWS pages it too; the runbooks' stack fits in one page of 100). */
export const LIST_PAGE_SIZE = 100;
/**
 * Where denials are recorded. `gateway/enforcer.ts`'s `Endpoint` does not list `cloudformation` yet (a file of
 * another change); the name is recorded as is.
 */
const ENDPOINT: Endpoint = 'cloudformation';

export class CloudFormationApiError extends QueryApiError {
  override readonly name = 'CloudFormationApiError';

  /** CloudFormation's one client error code for bad input and unknown stacks or resources. */
  static validation(message: string): CloudFormationApiError {
    return new CloudFormationApiError('ValidationError', message);
  }
}

/** A required parameter, with the message AWS's query services give for a missing one. */
function required(params: QueryParams, name: string): string {
  const value = params.get(name);
  if (value === undefined || value === '')
    throw CloudFormationApiError.validation(
      `1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`,
    );
  return value;
}

/**
 * The stack a StackName names: its name or its stack id. Anything else is AWS's ValidationError "Stack with id X does
 * not exist" (the wording of DescribeStacks' answer for an unknown stack, boto/boto3#2807).
 */
function stackNamed(stack: LocalStack, name: string): LocalStack {
  if (name === stack.name || name === stack.id) return stack;
  throw CloudFormationApiError.validation(`Stack with id ${name} does not exist`);
}

/** The ARN a permission names: the stack's id, or for an unknown name the ARN such a stack would have. */
function stackArn(stack: LocalStack, name: string | undefined): string {
  if (name === undefined || name === stack.name || name === stack.id) return stack.id;
  return name.startsWith('arn:') ? name : `${stack.arnPrefix}${name}/*`;
}

const iso = (date: Date) => date.toISOString();

function resourceFields(resource: StackResourceView) {
  return {
    LogicalResourceId: resource.logicalId,
    PhysicalResourceId: resource.physicalId,
    ResourceType: resource.type,
    ResourceStatus: 'CREATE_COMPLETE',
    ResourceStatusReason: resource.reason,
    // Drift detection does not run locally; AWS reports NOT_CHECKED for a resource never checked.
    DriftInformation: { StackResourceDriftStatus: 'NOT_CHECKED' },
  } satisfies Record<string, XmlValue>;
}

function resourceOf(stack: LocalStack, logicalId: string): StackResourceView {
  const resource = stack.resources.find((r) => r.logicalId === logicalId);
  // "Resource X does not exist for stack Y": DescribeStackResource's ValidationError (jpsim/AWSPics#14).
  if (!resource)
    throw CloudFormationApiError.validation(`Resource ${logicalId} does not exist for stack ${stack.name}`);
  return resource;
}

interface Operation {
  /** What the caller needs, every one of them (the first refused is the answer). */
  permissions(params: QueryParams, stack: LocalStack): Permission[];
  run(params: QueryParams, stack: LocalStack, pageSize: number): Record<string, XmlValue>;
}

const permission = (action: string) => (params: QueryParams, stack: LocalStack) => [
  { action: `cloudformation:${action}`, resource: stackArn(stack, params.get('StackName') || undefined) },
];

const OPERATIONS: Record<string, Operation> = {
  DescribeStacks: {
    // Without a StackName it describes every stack, which "requires ListStacks and DescribeStacks permissions"
    // (API reference, DescribeStacks, https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html);
    // ListStacks has no resource type (`*`).
    permissions: (params, stack) =>
      params.get('StackName')
        ? permission('DescribeStacks')(params, stack)
        : [
            { action: 'cloudformation:ListStacks', resource: '*' },
            { action: 'cloudformation:DescribeStacks', resource: stack.id },
          ],
    run: (params, stack) => {
      const name = params.get('StackName');
      if (name) stackNamed(stack, name);
      return {
        Stacks: [
          {
            StackId: stack.id,
            StackName: stack.name,
            Description: stack.description,
            Parameters: stack.parameters.map((p) => ({ ...p })),
            CreationTime: iso(stack.created),
            StackStatus: 'CREATE_COMPLETE',
            DisableRollback: false,
            NotificationARNs: [],
            Outputs: stack.outputs.map((o) => ({ ...o })),
            Tags: [],
            EnableTerminationProtection: false,
            DriftInformation: { StackDriftStatus: 'NOT_CHECKED' },
          },
        ],
      };
    },
  },
  DescribeStackResource: {
    permissions: permission('DescribeStackResource'),
    run: (params, stack) => {
      const found = stackNamed(stack, required(params, 'StackName'));
      const resource = resourceOf(found, required(params, 'LogicalResourceId'));
      return {
        StackResourceDetail: {
          StackName: stack.name,
          StackId: stack.id,
          ...resourceFields(resource),
          LastUpdatedTimestamp: iso(stack.created),
        },
      };
    },
  },
  DescribeStackResources: {
    permissions: permission('DescribeStackResources'),
    run: (params, stack) => {
      const name = params.get('StackName');
      const physicalId = params.get('PhysicalResourceId');
      if (!name && !physicalId)
        throw CloudFormationApiError.validation('Either StackName or PhysicalResourceId must be specified');
      if (name) stackNamed(stack, name);
      // By PhysicalResourceId: the stack that holds that resource, all its resources (or the one LogicalResourceId).
      if (physicalId && !stack.resources.some((r) => r.physicalId === physicalId))
        throw CloudFormationApiError.validation(`Stack for ${physicalId} does not exist`);
      const logicalId = params.get('LogicalResourceId');
      const list = logicalId ? [resourceOf(stack, logicalId)] : stack.resources;
      return {
        StackResources: list.map((resource) => ({
          StackName: stack.name,
          StackId: stack.id,
          ...resourceFields(resource),
          Timestamp: iso(stack.created),
        })),
      };
    },
  },
  ListStackResources: {
    permissions: permission('ListStackResources'),
    run: (params, stack, pageSize) => {
      stackNamed(stack, required(params, 'StackName'));
      const token = params.get('NextToken');
      const start = token === undefined ? 0 : Number(token);
      if (!Number.isInteger(start) || start < 0 || start >= Math.max(stack.resources.length, 1) || token === '')
        throw CloudFormationApiError.validation(`Invalid NextToken: ${token}`);
      const page = stack.resources.slice(start, start + pageSize);
      const next = start + pageSize < stack.resources.length ? String(start + pageSize) : undefined;
      return {
        StackResourceSummaries: page.map((resource) => ({
          ...resourceFields(resource),
          LastUpdatedTimestamp: iso(stack.created),
        })),
        NextToken: next,
      };
    },
  },
};

export interface CloudFormationServerContext {
  readonly stack: LocalStack;
  /** Local IAM enforcement; absent, every request acts as the administrator (`--iam off`). */
  readonly enforcer?: Enforcer;
  /** Page size of ListStackResources (tests page a small stack). */
  readonly pageSize?: number;
}

function principalOf(ctx: CloudFormationServerContext, request: IncomingMessage): Principal | undefined {
  if (!ctx.enforcer) return { kind: 'admin' };
  return ctx.enforcer.principalOf(credentialOf(request.headers.authorization, request.url));
}

export async function handleCloudFormationRequest(
  ctx: CloudFormationServerContext,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const requestId = randomUUID();
  try {
    const body = request.method === 'POST' ? await readBody(request) : '';
    const params = queryParams(request.url ?? '/', body, request.headers['content-type']);
    const action = params.get('Action');
    const operation = action === undefined ? undefined : OPERATIONS[action];
    if (!action || !operation)
      throw new CloudFormationApiError(
        'InvalidAction',
        `${action ? `The action ${action} is not valid for this web service.` : 'The request has no Action parameter.'} The local CloudFormation endpoint is read-only and serves ${Object.keys(OPERATIONS).join(', ')}.`,
      );
    const version = params.get('Version');
    if (version !== undefined && version !== CLOUDFORMATION_API_VERSION)
      throw CloudFormationApiError.validation(`Version must be ${CLOUDFORMATION_API_VERSION}, got ${version}`);
    const needed = operation.permissions(params, ctx.stack);
    const principal = principalOf(ctx, request);
    if (!principal) {
      ctx.enforcer?.recordUnsigned(needed[0], ENDPOINT);
      throw new CloudFormationApiError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403);
    }
    if (ctx.enforcer) {
      const decision = ctx.enforcer.authorizeAll(principal, needed, ENDPOINT);
      if (decision) throw new CloudFormationApiError('AccessDenied', decision.message, 403);
    }
    const result = operation.run(params, ctx.stack, ctx.pageSize ?? LIST_PAGE_SIZE);
    sendXml(response, 200, xmlResponse(action, result, requestId, CLOUDFORMATION_XML_NAMESPACE), requestId);
  } catch (error: unknown) {
    const apiError =
      error instanceof CloudFormationApiError
        ? error
        : new CloudFormationApiError('InternalFailure', (error as Error).message, 500);
    sendXml(response, apiError.status, xmlError(apiError, requestId, CLOUDFORMATION_XML_NAMESPACE), requestId);
  }
}

export interface CloudFormationServer {
  readonly endpoint: string;
  readonly server: Server;
  stop(): Promise<void>;
}

export async function startCloudFormationServer(
  ctx: CloudFormationServerContext,
  port: number,
): Promise<CloudFormationServer> {
  const server = createServer((request, response) => {
    if (!refuseBrowser(request, response)) void handleCloudFormationRequest(ctx, request, response);
  });
  await listen(server, port, 'CloudFormation endpoint');
  return { endpoint: `http://127.0.0.1:${port}`, server, stop: () => closeServer(server) };
}
