import { type BusinessRule, defineRule } from './rule.ts';
import { type PipeSourceSettings, validateSourceSettings } from './source-settings.ts';

/** The pipes' keys, stated here only: every enum of pipe keys (schemas, metrics, alarms, routes) is built from it. */
export const PIPE_KEYS = ['standard', 'premium'] as const;
export type PipeKey = (typeof PIPE_KEYS)[number];

export interface PipeDefinition {
  readonly key: PipeKey;
  readonly title: string;
  readonly description: string;
  /** Logical id of the target function in the stack (and its name locally). */
  readonly functionId: 'OrderProcessorFunction' | 'PremiumOrderProcessorFunction';
  /** Logical id of the pipe's dead-letter queue. */
  readonly dlqId: string;
  /** Logical id of the `AWS::Pipes::Pipe`. */
  readonly pipeId: string;
  readonly source: PipeSourceSettings;
  /**
   * The business rule in the full pattern language, over the record's typed view. What the pipe itself evaluates on
   * the raw record is derived from it by the engine (`pipeFilterOf`, `@orderflow/pipeline/engine`).
   */
  readonly rule: BusinessRule;
}

/**
 * Standard orders: the new image is pending or shipped, worth more than 100, from a customer whose email does not
 * contain `test.com`. REMOVE events carry no NewImage and so never match.
 */
const standardRule = defineRule([
  {
    id: 'status-pending-or-shipped',
    description: 'new status is pending or shipped',
    pattern: { dynamodb: { NewImage: { orderStatus: { S: ['pending', 'shipped'] } } } },
  },
  {
    id: 'amount-over-100',
    description: 'order amount is greater than 100',
    pattern: { dynamodb: { NewImage: { orderAmount: { N: [{ numeric: ['>', 100] }] } } } },
  },
  {
    id: 'email-not-test-com',
    description: 'customer email does not contain test.com',
    pattern: { dynamodb: { NewImage: { customerEmail: { S: [{ 'anything-but': { wildcard: '*test.com*' } }] } } } },
  },
]);

/** Premium orders: a MODIFY that ships a pending order worth more than 1,000. */
const premiumRule = defineRule([
  {
    id: 'event-is-modify',
    description: 'the change is a MODIFY',
    pattern: { eventName: ['MODIFY'] },
  },
  {
    id: 'was-pending',
    description: 'old status was pending',
    pattern: { dynamodb: { OldImage: { orderStatus: { S: ['pending'] } } } },
  },
  {
    id: 'now-shipped',
    description: 'new status is shipped',
    pattern: { dynamodb: { NewImage: { orderStatus: { S: ['shipped'] } } } },
  },
  {
    id: 'amount-over-1000',
    description: 'order amount is greater than 1,000',
    pattern: { dynamodb: { NewImage: { orderAmount: { N: [{ numeric: ['>', 1000] }] } } } },
  },
]);

function definePipe(definition: PipeDefinition): PipeDefinition {
  validateSourceSettings(definition.key, definition.source);
  return definition;
}

/** The two pipes, defined once. Everything else (stack, local runtime, handlers, ops API) reads them from here. */
export const PIPES: Readonly<Record<PipeKey, PipeDefinition>> = {
  standard: definePipe({
    key: 'standard',
    title: 'Standard order processing',
    description: 'Pending or shipped orders over 100 from real customers, to OrderProcessorFunction.',
    functionId: 'OrderProcessorFunction',
    dlqId: 'StandardPipeDeadLetterQueue',
    pipeId: 'StandardOrderPipe',
    source: {
      batchSize: 10,
      // Invoke as soon as a poll finds records: a real-time pipeline should not hold an order back to fill a batch
      // (a 1 s window added up to 1 s to every quiet-time order). Under load batches still fill to BatchSize, since
      // each lane sends one batch at a time and records queue while it is busy. See docs/ARCHITECTURE.md, Local runtime.
      maximumBatchingWindowInSeconds: 0,
      maximumRetryAttempts: 3,
      maximumRecordAgeInSeconds: 21_600,
      onPartialBatchItemFailure: 'AUTOMATIC_BISECT',
      parallelizationFactor: 2,
      startingPosition: 'TRIM_HORIZON',
    },
    rule: standardRule,
  }),
  premium: definePipe({
    key: 'premium',
    title: 'Premium order processing',
    description: 'Orders over 1,000 that move from pending to shipped, to PremiumOrderProcessorFunction.',
    functionId: 'PremiumOrderProcessorFunction',
    dlqId: 'PremiumPipeDeadLetterQueue',
    pipeId: 'PremiumOrderPipe',
    source: {
      batchSize: 5,
      maximumBatchingWindowInSeconds: 0,
      maximumRetryAttempts: 5,
      maximumRecordAgeInSeconds: 21_600,
      onPartialBatchItemFailure: 'AUTOMATIC_BISECT',
      parallelizationFactor: 1,
      startingPosition: 'TRIM_HORIZON',
    },
    rule: premiumRule,
  }),
};

export function isPipeKey(value: unknown): value is PipeKey {
  return typeof value === 'string' && (PIPE_KEYS as readonly string[]).includes(value);
}

/** The pipe whose target is the given function logical id or name suffix, if any. */
export function pipeForFunction(functionIdOrName: string): PipeDefinition | undefined {
  return Object.values(PIPES).find((pipe) => functionIdOrName.includes(pipe.functionId));
}
