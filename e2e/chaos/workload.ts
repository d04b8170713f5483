import type { OrderStatus } from '@orderflow/pipeline/facts';
import type { OrderInput } from '../support/orders.ts';

/** One order of the chaos workload and what happens to it. */
export interface ChaosOrder {
  readonly order: OrderInput;
  /** Set when the order later moves from pending to shipped (the premium transition). */
  readonly shipsLater: boolean;
  /**
   * A record the rules accept but the processors reject permanently: its `orderDate` is not ISO 8601, which the
   * order schema refuses (`OrderValidationError`, classified permanent by the handlers).
   */
  readonly poison: boolean;
}

export interface WorkloadOptions {
  readonly orders: number;
  readonly seed: number;
  readonly runId: string;
  /** Share of orders written with an invalid order date. Default 0.01. */
  readonly poisonRate?: number;
}

/** mulberry32: a small seeded generator, so a failing run can be replayed with the same `--seed`. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Amounts on and around both rules' thresholds (100 and 1,000) and some in between. */
const BOUNDARY_AMOUNTS = [0, 99.99, 100, 100.01, 101, 999.99, 1000, 1000.01, 1001] as const;
const INSERT_STATUSES: readonly (readonly [OrderStatus, number])[] = [
  ['pending', 0.5],
  ['shipped', 0.15],
  ['paid', 0.1],
  ['delivered', 0.1],
  ['cancelled', 0.1],
  ['refunded', 0.05],
];

function pick<T>(random: () => number, weighted: readonly (readonly [T, number])[]): T {
  let r = random();
  for (const [value, weight] of weighted) {
    r -= weight;
    if (r < 0) return value;
  }
  return (weighted[weighted.length - 1] as readonly [T, number])[0];
}

/**
 * Orders with a mix of statuses, amounts (a third on the thresholds), test.com customers (12%), premium transitions
 * (a third of the pending orders ship later) and poison records.
 */
export function chaosWorkload(options: WorkloadOptions): ChaosOrder[] {
  const random = seededRandom(options.seed);
  const poisonRate = options.poisonRate ?? 0.01;
  return Array.from({ length: options.orders }, (_, i) => {
    const orderStatus = pick(random, INSERT_STATUSES);
    const amount =
      random() < 1 / 3
        ? (BOUNDARY_AMOUNTS[Math.floor(random() * BOUNDARY_AMOUNTS.length)] as number)
        : Math.round(random() * 300_000) / 100;
    const testCustomer = random() < 0.12;
    const poison = random() < poisonRate;
    return {
      order: {
        orderId: `chaos-${options.runId}-${String(i).padStart(5, '0')}`,
        customerEmail: testCustomer ? `qa${i}@shop.test.com` : `customer${i}@example.com`,
        orderAmount: amount,
        orderStatus,
        orderDate: poison ? '24/11/2026 10:00' : new Date(Date.UTC(2026, 10, 24, 0, 0, i % 86_400)).toISOString(),
      },
      shipsLater: orderStatus === 'pending' && random() < 1 / 3,
      poison,
    };
  });
}
