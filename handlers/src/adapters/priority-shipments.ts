import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { PRIORITY_SHIPMENT_KEYS } from '@orderflow/pipeline/facts';
import type { PriorityShipments } from '../processing/effects.ts';

/**
 * One item per order in the priority shipments table, written once (conditional put). When the order is already
 * marked, the existing mark is returned: as this event's own when it wrote it (a retry after the notification
 * failed), otherwise flagged as marked by another event.
 */
export function dynamoDbPriorityShipments(client: DynamoDBClient, tableName: string): PriorityShipments {
  const key = PRIORITY_SHIPMENT_KEYS.partitionKey;
  return {
    async mark(order, eventId, markedAt) {
      try {
        await client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: {
              [key]: { S: order.orderId },
              tier: { S: 'priority' },
              markedAt: { S: markedAt },
              eventId: { S: eventId },
              orderAmount: { N: String(order.orderAmount) },
              orderDate: { S: order.orderDate },
            },
            ConditionExpression: 'attribute_not_exists(#key)',
            ExpressionAttributeNames: { '#key': key },
          }),
        );
        return { markedAt, alreadyMarkedByOtherEvent: false };
      } catch (error: unknown) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const existing = await client.send(
          new GetItemCommand({ TableName: tableName, Key: { [key]: { S: order.orderId } }, ConsistentRead: true }),
        );
        return {
          markedAt: existing.Item?.markedAt?.S ?? markedAt,
          alreadyMarkedByOtherEvent: existing.Item?.eventId?.S !== eventId,
        };
      }
    },
  };
}
