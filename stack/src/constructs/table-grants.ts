import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';

/**
 * DynamoDB grants on exactly the resource the code calls. `Table.grant` adds `<table>/index/*` as soon as the table
 * has an index, whatever the actions: a caller that never queries an index would get every index of the table.
 */
export function grantOnTable(table: ITable, grantee: IGrantable, ...actions: string[]): Grant {
  return Grant.addToPrincipal({ grantee, actions, resourceArns: [table.tableArn] });
}

/** A grant on one index of the table (`<table>/index/<name>`): what a `Query` with that `IndexName` is authorized on. */
export function grantOnIndex(table: ITable, indexName: string, grantee: IGrantable, ...actions: string[]): Grant {
  return Grant.addToPrincipal({ grantee, actions, resourceArns: [`${table.tableArn}/index/${indexName}`] });
}
