/**
 * Lifecycle of an order. `pending` and `shipped` drive the pipes; the rest are states a real shop reaches and the
 * processors must tolerate (a cancelled or refunded order is not an error, it is simply not matched).
 */
export const ORDER_STATUSES = ['pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];
