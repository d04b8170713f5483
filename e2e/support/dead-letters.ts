import type { PipeKey } from '@orderflow/pipeline/facts';
import type { RuntimeInfo } from '@orderflow/pipeline/schemas';
import { expect } from '@playwright/test';
import { clearFault, injectFault } from './faults.ts';
import type { OpsApiClient } from './ops-api.ts';
import type { OrderInput, OrderWriter } from './orders.ts';

/**
 * Puts orders into a pipe's DLQ the way production does, and takes them out again so each test leaves the shared
 * runtime as it found it.
 */
export class DeadLetters {
  private readonly touched = new Map<PipeKey, Set<string>>();

  constructor(
    private readonly info: RuntimeInfo,
    private readonly orders: OrderWriter,
    private readonly operator: OpsApiClient,
  ) {}

  /**
   * Fails the pipe's processor for every record (local fault injection) while the orders are written: its handler
   * runs and its downstream calls fail, so it journals each record and the console's list (which shows what the
   * journal has, never reading the stream) shows the orders.
   */
  async failProcessorFor(pipe: PipeKey, orders: readonly OrderInput[]): Promise<string[]> {
    await this.breakProcessor(pipe, 'downstream');
    try {
      return await this.writeAndAwait(pipe, orders);
    } finally {
      await this.repairProcessor(pipe);
    }
  }

  /**
   * Injects a fault into the pipe's processor until `repairProcessor`: `throw` fails each invocation before the
   * handler runs; `downstream` lets the handler run and fails its SQS calls, so it journals why each record failed.
   */
  breakProcessor(pipe: PipeKey, mode: 'throw' | 'downstream'): Promise<void> {
    return injectFault(this.info.endpoints.lambda, this.info.resources.pipes[pipe].function, { failureRate: 1, mode });
  }

  repairProcessor(pipe: PipeKey): Promise<void> {
    return clearFault(this.info.endpoints.lambda, this.info.resources.pipes[pipe].function);
  }

  /** Writes the orders and waits until the pipe's DLQ holds every one of them; answers the message ids. */
  async writeAndAwait(pipe: PipeKey, orders: readonly OrderInput[]): Promise<string[]> {
    const ids = this.touchedIn(pipe);
    for (const order of orders) {
      ids.add(order.orderId);
      await this.orders.put(order);
    }
    let messageIds: string[] = [];
    await expect
      .poll(
        async () => {
          const messages = await this.messagesWith(
            pipe,
            orders.map((o) => o.orderId),
          );
          messageIds = messages.map((m) => m.id);
          return new Set(messages.flatMap((m) => m.records.map((r) => r.orderId))).size;
        },
        { message: `orders ${orders.map((o) => o.orderId).join(', ')} reach the ${pipe} DLQ`, timeout: 60_000 },
      )
      .toBe(orders.length);
    return messageIds;
  }

  async messagesWith(pipe: PipeKey, orderIds: readonly string[]) {
    const wanted = new Set(orderIds);
    const messages = await this.operator.dlqMessages(pipe);
    return messages.filter((m) => m.records.some((r) => r.orderId !== null && wanted.has(r.orderId)));
  }

  /** Clears faults and discards whatever DLQ messages of this test's orders are left. */
  async cleanUp(): Promise<void> {
    for (const [pipe, orderIds] of this.touched) {
      await clearFault(this.info.endpoints.lambda, this.info.resources.pipes[pipe].function);
      for (const message of await this.messagesWith(pipe, [...orderIds])) {
        await this.operator.request('DELETE', `/api/dlqs/${pipe}/messages/${encodeURIComponent(message.id)}`, {
          reason: 'e2e clean-up of a test message',
        });
      }
    }
    this.touched.clear();
  }

  private touchedIn(pipe: PipeKey): Set<string> {
    let ids = this.touched.get(pipe);
    if (!ids) {
      ids = new Set();
      this.touched.set(pipe, ids);
    }
    return ids;
  }
}
