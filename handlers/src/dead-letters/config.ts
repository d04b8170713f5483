import {
  DEAD_LETTER_ARCHIVER_ENV,
  HANDLER_ENV,
  isPipeKey,
  PIPE_KEYS,
  type PipeKey,
  SERVICE_NAME,
} from '@orderflow/pipeline/facts';

/** Thrown at init when the environment cannot run an archiver; the message names the variable. */
export class ArchiverConfigError extends Error {
  override readonly name = 'ArchiverConfigError';
  constructor(
    message: string,
    readonly variable: string,
  ) {
    super(message);
  }
}

export interface ArchiverConfig {
  readonly serviceName: string;
  readonly pipe: PipeKey;
  readonly deadLetterTable: string;
  readonly journalTable: string;
  /** `arn:<partition>:sqs:<region>:<account>:<name>`: the pipe's DLQ, the only event source accepted. */
  readonly deadLetterQueueArn: string;
  /** `arn:<partition>:pipes:<region>:<account>:pipe/<name>`: the pipe every body must name. */
  readonly pipeArn: string;
  /** `arn:<partition>:dynamodb:<region>:<account>:table/<name>/stream/<label>` of the Orders table. */
  readonly ordersStreamArn: string;
}

type Env = Readonly<Record<string, string | undefined>>;

const ARN_SHAPES = {
  deadLetterQueueArn: [/^arn:[\w-]+:sqs:[\w-]+:\d{12}:[\w-]+$/, 'an SQS queue ARN (arn:aws:sqs:REGION:ACCOUNT:NAME)'],
  pipeArn: [/^arn:[\w-]+:pipes:[\w-]+:\d{12}:pipe\/[\w.-]+$/, 'a pipe ARN (arn:aws:pipes:REGION:ACCOUNT:pipe/NAME)'],
  ordersStreamArn: [
    /^arn:[\w-]+:dynamodb:[\w-]+:\d{12}:table\/[\w.-]+\/stream\/.+$/,
    'a DynamoDB stream ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL)',
  ],
} as const;

/** Reads and validates the archiver's environment once, at init (`DEAD_LETTER_ARCHIVER_ENV`, `HANDLER_ENV`). */
export function loadArchiverConfig(env: Env): ArchiverConfig {
  const pipe = required(env, HANDLER_ENV.pipe);
  if (!isPipeKey(pipe)) {
    throw new ArchiverConfigError(
      `${HANDLER_ENV.pipe} is '${pipe}', expected one of ${PIPE_KEYS.join(', ')}`,
      HANDLER_ENV.pipe,
    );
  }
  const arn = (key: keyof typeof ARN_SHAPES): string => {
    const variable = DEAD_LETTER_ARCHIVER_ENV[key];
    const value = required(env, variable);
    const [shape, what] = ARN_SHAPES[key];
    if (!shape.test(value)) throw new ArchiverConfigError(`${variable} is '${value}', expected ${what}`, variable);
    return value;
  };
  return {
    serviceName: env.POWERTOOLS_SERVICE_NAME || SERVICE_NAME,
    pipe,
    deadLetterTable: required(env, DEAD_LETTER_ARCHIVER_ENV.deadLetterTable),
    journalTable: required(env, HANDLER_ENV.journalTable),
    deadLetterQueueArn: arn('deadLetterQueueArn'),
    pipeArn: arn('pipeArn'),
    ordersStreamArn: arn('ordersStreamArn'),
  };
}

function required(env: Env, variable: string): string {
  const value = env[variable]?.trim();
  if (!value) throw new ArchiverConfigError(`environment variable ${variable} is missing or empty`, variable);
  return value;
}
