import {
  DEFAULT_JOURNAL_TTL_DAYS,
  HANDLER_ENV,
  isPipeKey,
  PIPE_KEYS,
  type PipeKey,
  SERVICE_NAME,
} from '@orderflow/pipeline/facts';

/** Thrown at init when the environment cannot run a processor; the message names the variable. */
export class ProcessorConfigError extends Error {
  override readonly name = 'ProcessorConfigError';
  constructor(
    message: string,
    readonly variable: string,
  ) {
    super(message);
  }
}

interface CommonConfig {
  readonly serviceName: string;
  readonly journalTable: string;
  readonly idempotencyTable: string;
  readonly journalTtlDays: number;
}

export type ProcessorConfig =
  | (CommonConfig & { readonly pipe: 'standard'; readonly notificationQueueUrl: string })
  | (CommonConfig & {
      readonly pipe: 'premium';
      readonly priorityShipmentsTable: string;
      readonly accountManagerQueueUrl: string;
    });

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads and validates the processor's environment once, at init (the variable names come from `HANDLER_ENV`).
 * `expectedPipe` is the pipe the entry file serves: a function wired to the other pipe fails fast instead of applying
 * the wrong rule.
 */
export function loadProcessorConfig(env: Env, expectedPipe: PipeKey): ProcessorConfig {
  const pipe = required(env, HANDLER_ENV.pipe);
  if (!isPipeKey(pipe)) {
    throw new ProcessorConfigError(
      `${HANDLER_ENV.pipe} is '${pipe}', expected one of ${PIPE_KEYS.join(', ')}`,
      HANDLER_ENV.pipe,
    );
  }
  if (pipe !== expectedPipe) {
    throw new ProcessorConfigError(
      `${HANDLER_ENV.pipe} is '${pipe}', but this function processes the '${expectedPipe}' pipe; check the function's environment`,
      HANDLER_ENV.pipe,
    );
  }
  const common: CommonConfig = {
    serviceName: env.POWERTOOLS_SERVICE_NAME || SERVICE_NAME,
    journalTable: required(env, HANDLER_ENV.journalTable),
    idempotencyTable: required(env, HANDLER_ENV.idempotencyTable),
    journalTtlDays: journalTtlDays(env),
  };
  if (pipe === 'standard') {
    return { ...common, pipe, notificationQueueUrl: required(env, HANDLER_ENV.notificationQueueUrl) };
  }
  return {
    ...common,
    pipe,
    priorityShipmentsTable: required(env, HANDLER_ENV.priorityShipmentsTable),
    accountManagerQueueUrl: required(env, HANDLER_ENV.accountManagerQueueUrl),
  };
}

function required(env: Env, variable: string): string {
  const value = env[variable]?.trim();
  if (!value) throw new ProcessorConfigError(`environment variable ${variable} is missing or empty`, variable);
  return value;
}

function journalTtlDays(env: Env): number {
  const raw = env[HANDLER_ENV.journalTtlDays]?.trim();
  if (!raw) return DEFAULT_JOURNAL_TTL_DAYS;
  const days = Number(raw);
  if (!Number.isInteger(days) || days < 1 || days > 365) {
    throw new ProcessorConfigError(
      `${HANDLER_ENV.journalTtlDays} is '${raw}', expected a whole number of days between 1 and 365`,
      HANDLER_ENV.journalTtlDays,
    );
  }
  return days;
}
