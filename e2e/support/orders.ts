import { randomUUID } from 'node:crypto';
import { DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { LOCAL_CREDENTIALS } from '@orderflow/local';
import { ORDERS_PARTITION_KEY, type OrderStatus } from '@orderflow/pipeline/facts';
import type { RuntimeInfo } from '@orderflow/pipeline/schemas';

/** An order as the shop writes it; `orderDate` is a string so tests can write an invalid one on purpose. */
export interface OrderInput {
  readonly orderId: string;
  readonly customerEmail: string;
  readonly orderAmount: number;
  readonly orderStatus: OrderStatus;
  readonly orderDate: string;
}

/** Unique per call, so tests sharing one runtime never see each other's orders. */
export function uniqueOrderId(label: string): string {
  return `${label}-${randomUUID().slice(0, 8)}`;
}

export function anOrder(label: string, overrides: Partial<OrderInput> = {}): OrderInput {
  return {
    orderId: uniqueOrderId(label),
    customerEmail: 'buyer@example.com',
    orderAmount: 150,
    orderStatus: 'pending',
    orderDate: '2026-11-24T10:00:00Z',
    ...overrides,
  };
}

/** Writes orders to the runtime's `Orders` table with the AWS SDK, exactly as a shop's backend would. */
export class OrderWriter {
  readonly client: DynamoDBClient;

  constructor(
    endpoint: string,
    private readonly tableName: string,
    region = 'us-east-1',
  ) {
    this.client = new DynamoDBClient({ endpoint, region, credentials: LOCAL_CREDENTIALS, maxAttempts: 5 });
  }

  static forRuntime(info: RuntimeInfo): OrderWriter {
    return new OrderWriter(info.endpoints.dynamodb, info.resources.ordersTable, info.region);
  }

  /** An INSERT (or a MODIFY when the order exists) of the whole item. */
  async put(order: OrderInput): Promise<void> {
    await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: marshall(order) }));
  }

  /** A MODIFY that changes the status only. */
  async setStatus(orderId: string, orderStatus: OrderStatus): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { [ORDERS_PARTITION_KEY]: { S: orderId } },
        UpdateExpression: 'SET orderStatus = :s',
        ExpressionAttributeValues: { ':s': { S: orderStatus } },
      }),
    );
  }

  close(): void {
    this.client.destroy();
  }
}
