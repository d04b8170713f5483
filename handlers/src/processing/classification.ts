import { IdempotencyKeyError, IdempotencyValidationError } from '@aws-lambda-powertools/idempotency';
import type { FailureClassification } from '@orderflow/pipeline/facts';
import { OrderValidationError, StreamRecordError } from '@orderflow/pipeline/schemas';
import { NotificationSchemaError } from './effects.ts';

const PERMANENT_ERRORS: readonly (abstract new (...args: never[]) => Error)[] = [
  StreamRecordError,
  OrderValidationError,
  NotificationSchemaError,
  IdempotencyValidationError,
  IdempotencyKeyError,
];

/** Node's network error codes: the request never got an answer, so the same request may succeed later. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND']);

/**
 * AWS SDK v3 errors carry `$fault` (`client` | `server`) and `$retryable` (throttling and transient faults; see
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html). A client fault that is not retryable
 * (validation, access denied, resource not found) needs a fix; anything else is worth retrying. Powertools wraps
 * persistence errors, so the cause chain is walked.
 */
export function classifyFailure(error: unknown): FailureClassification {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    if (PERMANENT_ERRORS.some((type) => current instanceof type)) return 'permanent';
    const sdk = current as Error & { $fault?: string; $retryable?: unknown; code?: string };
    if (sdk.$retryable || sdk.$fault === 'server' || NETWORK_CODES.has(sdk.code ?? '')) return 'transient';
    if (sdk.$fault === 'client') return isThrottling(sdk.name) ? 'transient' : 'permanent';
    current = current.cause;
  }
  return 'transient';
}

function isThrottling(name: string): boolean {
  return /Throttl|TooManyRequests|RequestLimitExceeded|ProvisionedThroughputExceeded/.test(name);
}
