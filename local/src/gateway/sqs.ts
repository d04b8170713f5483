import type { ArnScope } from './dynamodb.ts';
import type { Permission } from './enforcer.ts';

/**
 * What an SQS request needs, per the Service Authorization Reference for Amazon SQS
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsqs.html): `sqs:<Action>` on the
 * queue's ARN, derived from `QueueUrl` (`.../<account>/<name>` → `arn:aws:sqs:REGION:ACCOUNT:NAME`), from `QueueName`
 * for CreateQueue and GetQueueUrl, or from the request path for the query protocol's queue-URL form. Batch actions are
 * authorized as their single action (SendMessageBatch needs `sqs:SendMessage`); ListQueues has no resource (`*`).
 */
export const SQS_TARGET_PREFIX = 'AmazonSQS.';

const BATCH_ACTIONS: Record<string, string> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};
const NO_RESOURCE = new Set(['ListQueues']);
const BY_SOURCE_ARN = new Set(['StartMessageMoveTask', 'ListMessageMoveTasks']);

export class SqsRequestError extends Error {
  override readonly name = 'SqsRequestError';
}

/** `http://host/<account>/<name>` (or just the path) → the queue's ARN. */
export function queueArnOf(queueUrl: string, scope: ArnScope): string | undefined {
  let path = queueUrl;
  if (/^https?:\/\//.test(queueUrl)) {
    try {
      path = new URL(queueUrl).pathname;
    } catch {
      return undefined;
    }
  }
  const [account, name] = path.split('?')[0]?.split('/').filter(Boolean) ?? [];
  if (!account || !name) return undefined;
  return `arn:aws:sqs:${scope.region}:${account}:${decodeURIComponent(name)}`;
}

/**
 * The permission of one SQS action. `parameter` reads a request parameter (JSON member or query-string field);
 * `path` is the request path, which the query protocol may use as the queue URL.
 */
export function sqsPermission(
  operation: string,
  parameter: (name: string) => unknown,
  path: string,
  scope: ArnScope,
): Permission {
  const action = `sqs:${BATCH_ACTIONS[operation] ?? operation}`;
  if (NO_RESOURCE.has(operation)) return { action, resource: '*' };
  if (BY_SOURCE_ARN.has(operation)) {
    const source = parameter('SourceArn');
    if (typeof source !== 'string' || source === '')
      throw new SqsRequestError(`${operation}: SourceArn is missing or not a string`);
    return { action, resource: source };
  }
  if (operation === 'CreateQueue' || operation === 'GetQueueUrl') {
    const name = parameter('QueueName');
    if (typeof name !== 'string' || name === '')
      throw new SqsRequestError(`${operation}: QueueName is missing or not a string`);
    const owner = parameter('QueueOwnerAWSAccountId');
    return {
      action,
      resource: `arn:aws:sqs:${scope.region}:${typeof owner === 'string' && owner ? owner : scope.account}:${name}`,
    };
  }
  const url = parameter('QueueUrl');
  const arn =
    typeof url === 'string' && url !== ''
      ? queueArnOf(url, scope)
      : path && path !== '/'
        ? queueArnOf(path, scope)
        : undefined;
  if (arn) return { action, resource: arn };
  if (operation === 'CancelMessageMoveTask') return { action, resource: '*' };
  throw new SqsRequestError(
    typeof url === 'string' && url !== ''
      ? `${operation}: QueueUrl ${url} is not a queue URL (http://host/ACCOUNT/NAME)`
      : `${operation}: QueueUrl is missing`,
  );
}
