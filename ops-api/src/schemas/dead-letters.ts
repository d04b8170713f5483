/**
 * Schemas of the dead-letter store's read routes (`/api/dead-letters`): validation, OpenAPI and the console's types.
 * Re-exported by `./index.ts`.
 */
import {
  DEAD_LETTER_KINDS,
  DEAD_LETTER_RECORD_SOURCES,
  DEAD_LETTER_STATES,
  FAILURE_CLASSIFICATIONS,
  PIPE_KEYS,
} from '@orderflow/pipeline/facts';
import { z } from 'zod';

/** Rows a list page holds by default and at most (a page is one BatchGetItem of up to 100 keys per 100 rows). */
export const DEAD_LETTER_PAGE = { default: 50, max: 200 } as const;

const choice = <T extends readonly [string, ...string[]]>(name: string, values: T) =>
  z.enum(values, {
    error: (issue) =>
      Array.isArray(issue.input)
        ? `${name} must be given once, got ${issue.input.length} values`
        : `unknown ${name} ${JSON.stringify(issue.input)}; expected one of ${values.join(', ')}`,
  });

const once = (name: string, max: number) =>
  z
    .string({
      error: (issue) =>
        Array.isArray(issue.input)
          ? `${name} must be given once, got ${issue.input.length} values`
          : `${name} must be text`,
    })
    .trim()
    .min(1, `${name} is empty`)
    .max(max, `${name} must be at most ${max} characters`);

const time = (name: string) =>
  z.iso
    .datetime({
      offset: true,
      error: (issue) =>
        `${name} must be an ISO 8601 date-time such as 2026-11-24T10:00:00Z, got ${JSON.stringify(issue.input)}`,
    })
    .describe(`failedAt ${name === 'from' ? 'at or after' : 'at or before'} this time (ISO 8601)`);

const pageLimit = z
  .string({
    error: (issue) =>
      Array.isArray(issue.input) ? `limit must be given once, got ${issue.input.length} values` : 'limit must be text',
  })
  .regex(/^[0-9]+$/, {
    error: (issue) => `limit must be a whole number in decimal digits, got ${JSON.stringify(issue.input)}`,
  })
  .transform(Number)
  .pipe(
    z
      .number()
      .min(1, { error: (issue) => `limit must be at least 1, got ${issue.input}` })
      .max(DEAD_LETTER_PAGE.max, {
        error: (issue) => `limit must be at most ${DEAD_LETTER_PAGE.max}, got ${issue.input}`,
      }),
  )
  .describe(`rows per page, 1 to ${DEAD_LETTER_PAGE.max} (default ${DEAD_LETTER_PAGE.default})`);

export const deadLetterStateSchema = choice('state', DEAD_LETTER_STATES);

export const listDeadLettersQuerySchema = z
  .object({
    pipe: choice('pipe', PIPE_KEYS).optional(),
    state: deadLetterStateSchema.optional(),
    orderId: once('orderId', 200).optional().describe("an order's dead letters (its order links)"),
    q: once('q', 200)
      .optional()
      .describe("substring, any case, of an order id, a customer email, the cause's message or signature"),
    cause: once('cause', 1000).optional().describe('a cause key (32 hex digits) or a cause signature'),
    from: time('from').optional(),
    to: time('to').optional(),
    limit: pageLimit.default(DEAD_LETTER_PAGE.default),
    cursor: once('cursor', 1024).optional().describe("the previous page's cursor, as it was given"),
  })
  .refine((query) => !query.from || !query.to || Date.parse(query.from) <= Date.parse(query.to), {
    error: 'from must be at or before to',
    path: ['from'],
  });
export type ListDeadLettersQuery = z.infer<typeof listDeadLettersQuerySchema>;

export const deadLetterCausesQuerySchema = z.object({
  pipe: choice('pipe', PIPE_KEYS).optional(),
  state: deadLetterStateSchema.optional(),
});

export const deadLetterParamsSchema = z.object({
  id: z
    .string()
    .min(1, 'id is empty')
    .max(128, 'id must be at most 128 characters')
    .regex(/^[A-Za-z0-9._:-]+$/, 'id must be a dead letter id (the SQS message id it was captured from)'),
});

const cause = z.object({
  signature: z.string().describe('the error normalized: class and message without ids, numbers, addresses'),
  message: z.string().describe('one message of this cause as it was'),
  errorName: z.string(),
  key: z.string().describe('the cause key: pass it as `cause` to list its dead letters'),
});

const recordSummary = z.object({
  eventId: z.string(),
  sequenceNumber: z.string(),
  eventName: z.string().optional(),
  orderId: z.string().optional(),
  source: z.enum(DEAD_LETTER_RECORD_SOURCES),
  truncated: z.boolean(),
  error: z
    .object({
      name: z.string(),
      message: z.string(),
      signature: z.string(),
      classification: z.enum(FAILURE_CLASSIFICATIONS),
      attempts: z.number().int(),
      firstFailureAt: z.string(),
      lastFailureAt: z.string(),
    })
    .optional(),
});

export const deadLetterRowSchema = z.object({
  id: z.string().describe('the SQS message id of the DLQ message it was captured from'),
  kind: z.enum(DEAD_LETTER_KINDS),
  pipe: z.enum(PIPE_KEYS),
  state: z.enum(DEAD_LETTER_STATES),
  failedAt: z.string().describe('when the pipe gave the batch up (ISO 8601)'),
  capturedAt: z.string(),
  firstFailureAt: z.string(),
  lastFailureAt: z.string(),
  orderIds: z.array(z.string()),
  cause,
  expectedRecords: z.number().int(),
  recordCount: z.number().int(),
  missingRecords: z.number().int(),
  records: z.array(recordSummary).describe("a summary per record (the record's JSON: GET /api/dead-letters/{id})"),
  dlqBody: z
    .string()
    .nullable()
    .describe('the DLQ message body exactly as sent; null when over 32 KB (kept in parts: GET /api/dead-letters/{id})'),
  dlqBodyParts: z.number().int(),
});
export type DeadLetterRow = z.infer<typeof deadLetterRowSchema>;

export const listDeadLettersResponseSchema = z.object({
  deadLetters: z.array(deadLetterRowSchema).describe('newest first (failedAt, then id)'),
  cursor: z.string().nullable().describe('pass as `cursor` with the same filters for the next page; null: last page'),
  total: z.number().int().describe('the exact number of dead letters matching the filters'),
  totalFrom: z
    .enum(['counters', 'query'])
    .describe('counters: filters of pipe, state and cause only; query: a count over the rows the query reads'),
});
export type ListDeadLettersResponse = z.infer<typeof listDeadLettersResponseSchema>;

export const deadLetterDetailSchema = deadLetterRowSchema.extend({
  version: z.number().int(),
  emails: z.array(z.string()),
  missingReason: z.string().optional(),
  sources: z.object({ journal: z.number().int(), stream: z.number().int() }),
  batch: z
    .object({
      pipeArn: z.string(),
      condition: z.string(),
      version: z.string(),
      timestamp: z.string(),
      shardId: z.string(),
      startSequenceNumber: z.string(),
      endSequenceNumber: z.string(),
      batchSize: z.number().int(),
      streamArn: z.string(),
      approximateArrivalOfFirstRecord: z.string(),
      approximateArrivalOfLastRecord: z.string(),
    })
    .optional(),
  problems: z.array(z.string()).optional(),
  dlqBody: z.string().describe('the DLQ message body exactly as the pipe sent it (joined from its parts when split)'),
  sqs: z.object({ messageId: z.string(), queueArn: z.string(), sentAt: z.string(), receiveCount: z.number().int() }),
  streamRecords: z
    .array(z.object({ eventId: z.string(), json: z.string() }))
    .describe("each record's stream record JSON as the pipe delivered it, in sequence order"),
});
export type DeadLetterDetail = z.infer<typeof deadLetterDetailSchema>;

export const deadLetterCausesResponseSchema = z.object({
  causes: z
    .array(
      z.object({
        signature: z.string(),
        key: z.string(),
        message: z.string(),
        count: z.number().int().describe('exact, from the counters'),
        firstAt: z.string().nullable().describe('the earliest failedAt of its dead letters (in the state asked)'),
        lastAt: z.string().nullable(),
        pipes: z.array(z.enum(PIPE_KEYS)),
      }),
    )
    .describe('largest first'),
});
export type DeadLetterCausesResponse = z.infer<typeof deadLetterCausesResponseSchema>;
