import * as z from 'zod/mini';
import '../zod-locale.ts';
import { ORDER_STATUSES } from './order-status.ts';

/** Decimal with at most two fractional digits, as a shop stores money. */
const MONEY = /^\d+(\.\d{1,2})?$/;

/**
 * The order as it is stored in DynamoDB, after unmarshalling (numbers as numbers).
 * Errors name the field and the problem, e.g. `orderAmount: must be >= 0, got -5`.
 */
export const orderSchema = z.object({
  orderId: z
    .string()
    .check(z.minLength(1, 'must be a non-empty string'), z.maxLength(128, 'must be at most 128 characters')),
  customerEmail: z.email({ error: (issue) => `must be an email address, got ${JSON.stringify(issue.input)}` }),
  orderAmount: z.number({ error: (issue) => `must be a number, got ${describeValue(issue.input)}` }).check(
    z.gte(0, { error: (issue) => `must be >= 0, got ${String(issue.input)}` }),
    z.refine((n) => MONEY.test(String(n)), { error: 'must have at most two decimal places' }),
  ),
  orderStatus: z.enum(ORDER_STATUSES, {
    error: (issue) => `must be one of ${ORDER_STATUSES.join(', ')}, got ${describeValue(issue.input)}`,
  }),
  orderDate: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time such as 2026-11-24T10:00:00Z' }),
});

export type Order = z.infer<typeof orderSchema>;

export class OrderValidationError extends Error {
  override readonly name = 'OrderValidationError';
  constructor(
    readonly problems: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`invalid order: ${problems.join('; ')}`, options);
  }
}

/** Validates an unmarshalled image; throws {@link OrderValidationError} naming each bad field. */
export function parseOrder(value: unknown): Order {
  const result = orderSchema.safeParse(value);
  if (result.success) return result.data;
  throw new OrderValidationError(formatIssues(result.error), { cause: result.error });
}

/** `path: message` lines for a zod error; shared by every schema in the domain. */
export function formatIssues(error: {
  issues: readonly { path: readonly PropertyKey[]; message: string }[];
}): string[] {
  return error.issues.map(
    (issue) => `${issue.path.length ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`,
  );
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  const text = JSON.stringify(value);
  return `${typeof value} ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}
