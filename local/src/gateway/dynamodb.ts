import { awsShapedArn } from './arns.ts';
import type { Permission } from './enforcer.ts';

/**
 * What a DynamoDB or DynamoDB Streams request (AWS JSON 1.0, `X-Amz-Target: DynamoDB_20120810.<Op>` or
 * `DynamoDBStreams_20120810.<Op>`) needs, per the Service Authorization Reference for Amazon DynamoDB
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html):
 * - item, table and query operations: `dynamodb:<Op>` on the table (`TableName`, a name or an ARN), or on the index
 *   for a Query or Scan with `IndexName`;
 * - BatchGetItem / BatchWriteItem: that action on every table of `RequestItems`;
 * - TransactWriteItems: per item `dynamodb:PutItem`, `UpdateItem`, `DeleteItem` or `ConditionCheckItem` on its table;
 *   TransactGetItems: `dynamodb:GetItem` per item (neither has an action of its own);
 * - PartiQL statements: `dynamodb:PartiQL<Select|Insert|Update|Delete>` on the statement's table;
 * - Streams: `dynamodb:DescribeStream` / `GetShardIterator` on `StreamArn`, `dynamodb:GetRecords` on the stream the
 *   shard iterator belongs to (DynamoDB Local's iterators begin with its form of the stream ARN, whose AWS shape the
 *   permission names, arns.ts), `dynamodb:ListStreams` on `*`;
 * - account-level operations (ListTables, DescribeLimits, DescribeEndpoints, ...): `*`.
 */
export const DYNAMODB_TARGET_PREFIX = 'DynamoDB_20120810.';
export const STREAMS_TARGET_PREFIX = 'DynamoDBStreams_20120810.';

type Json = Record<string, unknown>;

export interface DynamoDbFacts {
  readonly permissions: readonly Permission[];
  /** Items each table gets written by this request if it succeeds (ConsumedWriteCapacityUnits, 1 per item). */
  readonly writes?: ReadonlyMap<string, number>;
}

export class DynamoDbRequestError extends Error {
  override readonly name = 'DynamoDbRequestError';
}

export interface ArnScope {
  readonly region: string;
  readonly account: string;
}

const TRANSACT_WRITE_ACTIONS: Record<string, string> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
};
const WRITE_OPERATIONS = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);
const ACCOUNT_OPERATIONS = new Set([
  'ListTables',
  'DescribeLimits',
  'DescribeEndpoints',
  'ListBackups',
  'ListGlobalTables',
  'ListExports',
  'ListImports',
  'ListContributorInsights',
]);

const tableName = (table: string) => (table.startsWith('arn:') ? table.slice(table.indexOf(':table/') + 7) : table);

function tableArn(table: unknown, scope: ArnScope, where: string): string {
  if (typeof table !== 'string' || table === '') throw new DynamoDbRequestError(`${where} is missing or not a string`);
  return table.startsWith('arn:') ? table : `arn:aws:dynamodb:${scope.region}:${scope.account}:table/${table}`;
}

function requestItemTables(input: Json, operation: string): string[] {
  const items = input.RequestItems;
  if (items === null || typeof items !== 'object' || Array.isArray(items))
    throw new DynamoDbRequestError(`${operation}: RequestItems is missing or not a map of tables`);
  return Object.keys(items);
}

function countWrites(writes: Map<string, number>, table: string, count: number): void {
  const name = tableName(table);
  writes.set(name, (writes.get(name) ?? 0) + count);
}

/** The statement's table, as `FROM "t"`, `INTO "t"`, `UPDATE "t"` or `DELETE FROM "t"` names it (quoted or not). */
function partiqlPermission(statement: unknown, scope: ArnScope, where: string): Permission {
  if (typeof statement !== 'string') throw new DynamoDbRequestError(`${where} is missing or not a string`);
  const verb = /^\s*(select|insert|update|delete|exists)\b/i.exec(statement)?.[1]?.toLowerCase();
  const table = /\b(?:from|into|update)\s+("([^"]+)"|([A-Za-z0-9_.-]+))/i.exec(statement);
  const name = table?.[2] ?? table?.[3];
  if (!verb || !name) throw new DynamoDbRequestError(`${where}: cannot tell the statement's operation and table`);
  const action = {
    select: 'PartiQLSelect',
    exists: 'PartiQLSelect',
    insert: 'PartiQLInsert',
    update: 'PartiQLUpdate',
    delete: 'PartiQLDelete',
  }[verb] as string;
  return { action: `dynamodb:${action}`, resource: tableArn(name.split('.')[0], scope, where) };
}

/** The permissions of one DynamoDB (not Streams) operation. */
function dynamoDbFacts(operation: string, input: Json, scope: ArnScope): DynamoDbFacts {
  const action = `dynamodb:${operation}`;
  switch (operation) {
    case 'BatchGetItem':
      return {
        permissions: requestItemTables(input, operation).map((t) => ({
          action,
          resource: tableArn(t, scope, 'RequestItems'),
        })),
      };
    case 'BatchWriteItem': {
      const writes = new Map<string, number>();
      const tables = requestItemTables(input, operation);
      for (const table of tables) {
        const requests = (input.RequestItems as Json)[table];
        countWrites(writes, table, Array.isArray(requests) ? requests.length : 0);
      }
      return { permissions: tables.map((t) => ({ action, resource: tableArn(t, scope, 'RequestItems') })), writes };
    }
    case 'TransactWriteItems': {
      const items = input.TransactItems;
      if (!Array.isArray(items))
        throw new DynamoDbRequestError('TransactWriteItems: TransactItems is missing or not a list');
      const writes = new Map<string, number>();
      const permissions = items.map((item: unknown, i) => {
        const [kind, body] = Object.entries((item ?? {}) as Json)[0] ?? [];
        const itemAction = kind ? TRANSACT_WRITE_ACTIONS[kind] : undefined;
        if (!itemAction || body === null || typeof body !== 'object')
          throw new DynamoDbRequestError(
            `TransactWriteItems: TransactItems[${i}] must hold one of Put, Update, Delete or ConditionCheck`,
          );
        const table = (body as Json).TableName;
        const resource = tableArn(table, scope, `TransactItems[${i}].${kind}.TableName`);
        if (kind !== 'ConditionCheck') countWrites(writes, table as string, 1);
        return { action: itemAction, resource };
      });
      return { permissions, writes };
    }
    case 'TransactGetItems': {
      const items = input.TransactItems;
      if (!Array.isArray(items))
        throw new DynamoDbRequestError('TransactGetItems: TransactItems is missing or not a list');
      return {
        permissions: items.map((item: unknown, i) => ({
          action: 'dynamodb:GetItem',
          resource: tableArn(
            ((item as Json | null)?.Get as Json | undefined)?.TableName,
            scope,
            `TransactItems[${i}].Get.TableName`,
          ),
        })),
      };
    }
    case 'ExecuteStatement':
      return { permissions: [partiqlPermission(input.Statement, scope, 'Statement')] };
    case 'BatchExecuteStatement':
    case 'ExecuteTransaction': {
      const list = (operation === 'BatchExecuteStatement' ? input.Statements : input.TransactStatements) as unknown;
      if (!Array.isArray(list))
        throw new DynamoDbRequestError(`${operation}: its statements are missing or not a list`);
      return {
        permissions: list.map((entry: unknown, i) =>
          partiqlPermission((entry as Json | null)?.Statement, scope, `statement ${i}`),
        ),
      };
    }
    case 'ListTagsOfResource':
    case 'TagResource':
    case 'UntagResource':
    case 'GetResourcePolicy':
    case 'PutResourcePolicy':
    case 'DeleteResourcePolicy':
      return { permissions: [{ action, resource: tableArn(input.ResourceArn, scope, 'ResourceArn') }] };
  }
  if (ACCOUNT_OPERATIONS.has(operation)) return { permissions: [{ action, resource: '*' }] };
  if (input.TableName === undefined) return { permissions: [{ action, resource: '*' }] };
  const table = tableArn(input.TableName, scope, 'TableName');
  const index = (operation === 'Query' || operation === 'Scan') && typeof input.IndexName === 'string';
  return {
    permissions: [{ action, resource: index ? `${table}/index/${input.IndexName as string}` : table }],
    ...(WRITE_OPERATIONS.has(operation) ? { writes: new Map([[tableName(input.TableName as string), 1]]) } : {}),
  };
}

function streamsFacts(operation: string, input: Json, scope: ArnScope): DynamoDbFacts {
  const action = `dynamodb:${operation}`;
  switch (operation) {
    case 'ListStreams':
      return { permissions: [{ action, resource: '*' }] };
    case 'GetRecords': {
      const iterator = input.ShardIterator;
      if (typeof iterator !== 'string' || iterator === '')
        throw new DynamoDbRequestError('GetRecords: ShardIterator is missing or not a string');
      // The iterator names DynamoDB Local's form of the stream ARN: the permission is on the AWS-shaped one.
      const bar = iterator.indexOf('|');
      return {
        permissions: [
          {
            action,
            resource: bar > 0 && iterator.startsWith('arn:') ? awsShapedArn(iterator.slice(0, bar), scope.region) : '*',
          },
        ],
      };
    }
    default: {
      const stream = input.StreamArn;
      if (typeof stream !== 'string' || stream === '')
        throw new DynamoDbRequestError(`${operation}: StreamArn is missing or not a string`);
      return { permissions: [{ action, resource: stream }] };
    }
  }
}

/** What a request with this `X-Amz-Target` and JSON body needs; undefined for a target that is neither service's. */
export function dynamoDbRequestFacts(target: string, input: Json, scope: ArnScope): DynamoDbFacts | undefined {
  if (target.startsWith(DYNAMODB_TARGET_PREFIX))
    return dynamoDbFacts(target.slice(DYNAMODB_TARGET_PREFIX.length), input, scope);
  if (target.startsWith(STREAMS_TARGET_PREFIX))
    return streamsFacts(target.slice(STREAMS_TARGET_PREFIX.length), input, scope);
  return undefined;
}
