/**
 * Source parameters of a pipe with a DynamoDB stream source, with AWS's documented ranges.
 * https://docs.aws.amazon.com/eventbridge/latest/pipes-reference/API_PipeSourceDynamoDBStreamParameters.html
 */
export interface PipeSourceSettings {
  /** 1..10000 records per batch. */
  readonly batchSize: number;
  /** 0..300 seconds to wait while filling a batch. */
  readonly maximumBatchingWindowInSeconds: number;
  /** -1 (forever) or 0..10000 retries of a failing batch before it goes to the DLQ. */
  readonly maximumRetryAttempts: number;
  /** -1 (forever) or 60..604800 seconds; older records go to the DLQ unprocessed. */
  readonly maximumRecordAgeInSeconds: number;
  /** Halve a failing batch and retry each half until one failing record is left. */
  readonly onPartialBatchItemFailure: 'AUTOMATIC_BISECT' | undefined;
  /** 1..10 concurrent batches per shard; records of one item key stay in order. */
  readonly parallelizationFactor: number;
  /** LATEST can miss events written while the pipe is created or updated, so both pipes read from TRIM_HORIZON. */
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
}

interface IntegerRange {
  readonly min: number;
  readonly max: number;
  readonly allowMinusOne?: boolean;
}

/**
 * Documented ranges (same reference as above, reread 2026-12-07: BatchSize 1..10000, MaximumBatchingWindowInSeconds
 * 0..300, MaximumRetryAttempts -1..10000; ParallelizationFactor is the API model's `LimitMax10`). MaximumRecordAgeInSeconds:
 * the Pipes reference gives the type's absolute range (-1..604800); the same parameter of the same stream poller in
 * Lambda's CreateEventSourceMapping reference says "The minimum valid value for maximum record age is 60s. Although
 * values less than 60 and greater than -1 fall within the parameter's absolute range, they are not allowed"
 * (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html), so 0..59 is refused here.
 */
export const SOURCE_SETTING_RANGES: Readonly<
  Record<
    keyof Pick<
      PipeSourceSettings,
      | 'batchSize'
      | 'maximumBatchingWindowInSeconds'
      | 'maximumRetryAttempts'
      | 'maximumRecordAgeInSeconds'
      | 'parallelizationFactor'
    >,
    IntegerRange
  >
> = {
  batchSize: { min: 1, max: 10_000 },
  maximumBatchingWindowInSeconds: { min: 0, max: 300 },
  maximumRetryAttempts: { min: 0, max: 10_000, allowMinusOne: true },
  maximumRecordAgeInSeconds: { min: 60, max: 604_800, allowMinusOne: true },
  parallelizationFactor: { min: 1, max: 10 },
};

export class PipeDefinitionError extends Error {
  override readonly name = 'PipeDefinitionError';
  constructor(
    message: string,
    readonly pipe: string,
    readonly setting?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Checks settings against AWS's ranges; the message names the pipe and the setting, e.g.
 * `batchSize 20000 for pipe 'standard' exceeds 10000`.
 */
export function validateSourceSettings(pipe: string, settings: PipeSourceSettings): PipeSourceSettings {
  for (const [setting, range] of Object.entries(SOURCE_SETTING_RANGES)) {
    const value = settings[setting as keyof typeof SOURCE_SETTING_RANGES];
    if (!Number.isInteger(value)) {
      throw new PipeDefinitionError(`${setting} ${String(value)} for pipe '${pipe}' must be an integer`, pipe, setting);
    }
    if (range.allowMinusOne && value === -1) continue;
    if (value > range.max) {
      throw new PipeDefinitionError(`${setting} ${value} for pipe '${pipe}' exceeds ${range.max}`, pipe, setting);
    }
    if (value < range.min) {
      const lowest = range.allowMinusOne ? `-1 (unlimited) or ${range.min}` : String(range.min);
      // Between -1 and the minimum (maximumRecordAgeInSeconds 0..59): say what is allowed instead.
      const message =
        range.allowMinusOne && value > -1
          ? `${setting} ${value} for pipe '${pipe}' is below ${range.min}; AWS allows -1 (unlimited) or ${range.min} to ${range.max}`
          : `${setting} ${value} for pipe '${pipe}' is below ${lowest}`;
      throw new PipeDefinitionError(message, pipe, setting);
    }
  }
  if (settings.onPartialBatchItemFailure !== undefined && settings.onPartialBatchItemFailure !== 'AUTOMATIC_BISECT') {
    throw new PipeDefinitionError(
      `onPartialBatchItemFailure '${String(settings.onPartialBatchItemFailure)}' for pipe '${pipe}' must be AUTOMATIC_BISECT or unset`,
      pipe,
      'onPartialBatchItemFailure',
    );
  }
  if (settings.startingPosition !== 'TRIM_HORIZON' && settings.startingPosition !== 'LATEST') {
    throw new PipeDefinitionError(
      `startingPosition '${String(settings.startingPosition)}' for pipe '${pipe}' must be TRIM_HORIZON or LATEST`,
      pipe,
      'startingPosition',
    );
  }
  return settings;
}
