import {
  IdempotencyAlreadyInProgressError,
  IdempotencyPersistenceLayerError,
} from '@aws-lambda-powertools/idempotency';
import { OrderValidationError, StreamRecordError } from '@orderflow/pipeline/schemas';
import { describe, expect, it } from 'vitest';
import { classifyFailure } from '../src/processing/classification.ts';
import { NotificationSchemaError } from '../src/processing/effects.ts';

function sdkError(name: string, fault: 'client' | 'server', retryable = false) {
  return Object.assign(new Error(name), { name, $fault: fault, ...(retryable ? { $retryable: {} } : {}) });
}

describe('classifyFailure', () => {
  it.each([
    ['an invalid order', new OrderValidationError(['orderAmount: must be >= 0, got -5'])],
    ['a malformed record', new StreamRecordError(['eventID: required'])],
    ['a notification that breaks its schema', new NotificationSchemaError('bad')],
    ['access denied', sdkError('AccessDeniedException', 'client')],
    ['a missing queue', sdkError('QueueDoesNotExist', 'client')],
  ])('%s is permanent', (_what, error) => {
    expect(classifyFailure(error)).toBe('permanent');
  });

  it.each([
    ['throttling', sdkError('ThrottlingException', 'client')],
    ['provisioned throughput exceeded', sdkError('ProvisionedThroughputExceededException', 'client')],
    ['a service fault', sdkError('InternalServerError', 'server')],
    ['a retryable client error', sdkError('RequestTimeout', 'client', true)],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    ['a concurrent attempt in progress', new IdempotencyAlreadyInProgressError('in progress')],
    ['an unrecognised error', new Error('something odd')],
  ])('%s is transient', (_what, error) => {
    expect(classifyFailure(error)).toBe('transient');
  });

  it('looks through Powertools wrappers to the cause', () => {
    const wrapped = new IdempotencyPersistenceLayerError('Failed to update success record', {
      cause: sdkError('ResourceNotFoundException', 'client'),
    });
    expect(classifyFailure(wrapped)).toBe('permanent');
    const throttled = new IdempotencyPersistenceLayerError('Failed to put record', {
      cause: sdkError('ThrottlingException', 'client'),
    });
    expect(classifyFailure(throttled)).toBe('transient');
  });
});
