import { randomUUID } from 'node:crypto';
import { type DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ORDERS_PARTITION_KEY, type OrderStatus } from '@orderflow/pipeline/facts';
import type { Order } from '@orderflow/pipeline/schemas';

/**
 * Demo traffic: a realistic mix of orders written to the table so that both pipes, the guard and the DLQ have
 * something to show. About a fifth of the customers are test.com accounts (the standard rule rejects them), amounts
 * range from small to large (premium needs > 1,000), and open orders move through their lifecycle, including the
 * pending → shipped transition the premium pipe waits for.
 */
const REAL_DOMAINS = ['example.com', 'shop.example.org', 'mail.example.net'];
const NAMES = ['ada', 'grace', 'linus', 'margaret', 'ken', 'barbara', 'dennis', 'frances', 'tim', 'radia'];

/** Where an order may go next, with weights (a pending order mostly ships, sometimes is cancelled). */
const NEXT: Partial<Record<OrderStatus, [OrderStatus, number][]>> = {
  pending: [
    ['shipped', 5],
    ['paid', 3],
    ['cancelled', 1],
  ],
  paid: [
    ['shipped', 4],
    ['refunded', 1],
  ],
  shipped: [['delivered', 1]],
};

export interface TrafficGenerator {
  stop(): void;
  /** Orders written so far (inserts and status changes). */
  readonly written: () => number;
}

function pick<T>(items: readonly [T, number][], random: () => number): T {
  const total = items.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = random() * total;
  for (const [item, weight] of items) {
    roll -= weight;
    if (roll < 0) return item;
  }
  return (items[items.length - 1] as [T, number])[0];
}

export function demoOrder(random: () => number = Math.random): Order {
  const name = NAMES[Math.floor(random() * NAMES.length)] as string;
  const domain = random() < 0.2 ? 'test.com' : (REAL_DOMAINS[Math.floor(random() * REAL_DOMAINS.length)] as string);
  const band = random();
  const amount = band < 0.4 ? 5 + random() * 95 : band < 0.8 ? 100 + random() * 900 : 1000 + random() * 4000;
  return {
    orderId: `ord-${randomUUID().slice(0, 13)}`,
    customerEmail: `${name}.${Math.floor(random() * 1000)}@${domain}`,
    orderAmount: Math.round(amount * 100) / 100,
    orderStatus: 'pending',
    orderDate: new Date().toISOString(),
  };
}

export function startDemoTraffic(options: {
  client: DynamoDBClient;
  tableName: string;
  ordersPerSecond: number;
  /** Orders written at once at start, so the console has something to show immediately. */
  seed?: number;
  onError?: (error: unknown) => void;
  random?: () => number;
}): TrafficGenerator {
  const random = options.random ?? Math.random;
  const open: { orderId: string; status: OrderStatus }[] = [];
  let written = 0;
  let stopped = false;

  const insert = async () => {
    const order = demoOrder(random);
    await options.client.send(
      new PutItemCommand({
        TableName: options.tableName,
        Item: {
          [ORDERS_PARTITION_KEY]: { S: order.orderId },
          customerEmail: { S: order.customerEmail },
          orderAmount: { N: String(order.orderAmount) },
          orderStatus: { S: order.orderStatus },
          orderDate: { S: order.orderDate },
        },
      }),
    );
    open.push({ orderId: order.orderId, status: order.orderStatus });
    written++;
  };

  const advance = async () => {
    const index = Math.floor(random() * open.length);
    const order = open[index];
    const choices = order ? NEXT[order.status] : undefined;
    if (!order || !choices) {
      open.splice(index, 1);
      return insert();
    }
    const next = pick(choices, random);
    await options.client.send(
      new UpdateItemCommand({
        TableName: options.tableName,
        Key: { [ORDERS_PARTITION_KEY]: { S: order.orderId } },
        UpdateExpression: 'SET orderStatus = :status',
        ExpressionAttributeValues: { ':status': { S: next } },
      }),
    );
    order.status = next;
    if (!NEXT[next]) open.splice(index, 1);
    written++;
  };

  const step = () => (open.length > 0 && random() < 0.45 ? advance() : insert());
  const report = (error: unknown) => options.onError?.(error);

  void (async () => {
    for (let i = 0; i < (options.seed ?? 20) && !stopped; i++) await step().catch(report);
  })();
  const timer = setInterval(() => {
    if (!stopped) void step().catch(report);
  }, 1000 / options.ordersPerSecond);

  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
    written: () => written,
  };
}
