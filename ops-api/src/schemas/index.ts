/**
 * Request and response schemas of the ops API: the one source of truth for validation, OpenAPI (`/docs`) and the
 * console's types (`import type { DlqMessage } from '@orderflow/ops-api/schemas'`).
 */
import {
  ALARM_STATES,
  FAILURE_CLASSIFICATIONS,
  FUNNEL_STAGES,
  type FunnelStageKey,
  OPS_API_ROLES,
  PIPE_KEYS,
  STREAM_EVENT_NAMES,
} from '@orderflow/pipeline/facts';
import { z } from 'zod';

export const pipeKeySchema = z.enum(PIPE_KEYS, {
  error: (issue) =>
    issue.input === undefined
      ? `pipe is required; expected one of ${PIPE_KEYS.join(', ')}`
      : `unknown pipe ${JSON.stringify(issue.input)}; expected one of ${PIPE_KEYS.join(', ')}`,
});

const isoDateTime = z.iso.datetime({
  offset: true,
  error: 'must be an ISO 8601 date-time such as 2026-11-24T10:00:00Z',
});
const json = z.record(z.string(), z.unknown());

/**
 * A whole-number query parameter, written in decimal digits only. `z.coerce.number` read it with `Number(text)`, so
 * an empty `limit=` became 0 ("must be at least 1") and `0x10` or `1e1` were taken as 16 and 10.
 */
function decimalParameter(name: string, range: { min: number; max: number }) {
  return z
    .string({
      error: (issue) =>
        Array.isArray(issue.input)
          ? `${name} must be given once, got ${issue.input.length} values`
          : `${name} must be a whole number in decimal digits`,
    })
    .regex(/^[0-9]+$/, {
      error: (issue) => `${name} must be a whole number in decimal digits, got ${JSON.stringify(issue.input)}`,
    })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(range.min, { error: (issue) => `${name} must be at least ${range.min}, got ${issue.input}` })
        .max(range.max, { error: (issue) => `${name} must be at most ${range.max}, got ${issue.input}` }),
    )
    .describe(`a whole number from ${range.min} to ${range.max}, in decimal digits`);
}

/** The range a query without `from` covers, counted back from `to` (itself now when left out). */
export const METRICS_DEFAULT_WINDOW_MS = 3 * 3600_000;
/**
 * Datapoints per series a metrics query may ask for: a day at one-minute periods. The funnel reads a few dozen series
 * (a stage each, a guard clause each), so a query stays within one GetMetricData answer of up to 100,800 datapoints
 * (CloudWatch API reference, GetMetricData) instead of paging through many; 1,440 is also GetMetricStatistics' limit
 * per call. The console asks for about 60 (its `periodFor`).
 */
export const METRICS_MAX_DATAPOINTS = 1440;
const METRICS_MAX_PERIOD_SECONDS = 86_400;
export const AUDIT_DEFAULT_WINDOW_MS = 86_400_000;

/**
 * A range with an end left out runs to now (`to`) or is counted back from `to` (`from`), so a lone `from` after now is
 * as empty as a reversed range, and a lone `from` years back is as long as a range that says so.
 */
function rangeOf(query: { from?: string | undefined; to?: string | undefined }, defaultMs: number) {
  const to = query.to ? Date.parse(query.to) : Date.now();
  return { from: query.from ? Date.parse(query.from) : to - defaultMs, to };
}
const FROM_BEFORE_TO = 'from must be before to (or before now when to is left out)';

export const errorResponseSchema = z.object({
  statusCode: z.number().int(),
  error: z.string(),
  message: z.string(),
});
export type ErrorResponse = z.infer<typeof errorResponseSchema>;

export const roleSchema = z.enum(OPS_API_ROLES);
export type Role = z.infer<typeof roleSchema>;

// --- health -------------------------------------------------------------------------------------------------------
export const healthResponseSchema = z.object({ status: z.literal('ok'), mode: z.enum(['local', 'aws']) });
export type HealthResponse = z.infer<typeof healthResponseSchema>;

// --- me -----------------------------------------------------------------------------------------------------------
export const meResponseSchema = z.object({
  actor: z.string().describe('who the bearer token stands for (the Cognito username, or local-operator/local-viewer)'),
  role: roleSchema.describe('operators may redrive and discard; viewers only read'),
});
export type Me = z.infer<typeof meResponseSchema>;

// --- pipes --------------------------------------------------------------------------------------------------------
/** A pipe's state as DescribePipe answers it (Pipes API reference, DescribePipe). */
export const pipeStateSchema = z.object({
  desired: z.string().describe('DesiredState: RUNNING or STOPPED (what the last StartPipe/StopPipe asked for)'),
  current: z
    .string()
    .describe(
      'CurrentState: RUNNING or STOPPED once settled; STARTING or STOPPING while a start or stop is under way; START_FAILED, STOP_FAILED, ... when it failed',
    ),
  reason: z.string().nullable().describe('StateReason, when Pipes gives one'),
  lastModified: z.string().nullable().describe('LastModifiedTime (ISO 8601)'),
});
export type PipeState = z.infer<typeof pipeStateSchema>;
export const pipeSummarySchema = z.object({
  key: pipeKeySchema,
  title: z.string(),
  description: z.string(),
  pipeName: z.string(),
  functionName: z.string(),
  dlqUrl: z.string(),
  rule: z.object({
    pattern: json,
    clauses: z.array(z.object({ id: z.string(), description: z.string(), pattern: json })),
  }),
  pipeFilter: json,
  source: z.object({
    batchSize: z.number(),
    maximumBatchingWindowInSeconds: z.number(),
    maximumRetryAttempts: z.number(),
    maximumRecordAgeInSeconds: z.number(),
    onPartialBatchItemFailure: z.string().nullable(),
    parallelizationFactor: z.number(),
    startingPosition: z.string(),
  }),
  state: pipeStateSchema
    .nullable()
    .describe('the pipe as EventBridge Pipes reports it (DescribePipe); null when it could not be read'),
  stateError: z.string().nullable().describe('why `state` is null (the Pipes API error), else null'),
});
export type PipeSummary = z.infer<typeof pipeSummarySchema>;
export const pipesResponseSchema = z.object({ pipes: z.array(pipeSummarySchema) });
export type PipesResponse = z.infer<typeof pipesResponseSchema>;
/** `POST /api/pipes/{pipe}/stop` and `/start`: why, for the audit log. */
export const pipeControlBodySchema = z
  .object({
    reason: z.string().trim().min(3, 'reason must say why (at least 3 characters)').max(500),
  })
  .strict();
export type PipeControlBody = z.infer<typeof pipeControlBodySchema>;
export const pipeControlResponseSchema = z.object({
  pipe: pipeKeySchema,
  pipeName: z.string(),
  state: pipeStateSchema.describe(
    'as StopPipe/StartPipe answered: usually STOPPING or STARTING; GET /api/pipes shows when it has settled',
  ),
  auditId: z.string().describe('the audit entry of the outcome'),
});
export type PipeControlResponse = z.infer<typeof pipeControlResponseSchema>;

// --- DLQs ---------------------------------------------------------------------------------------------------------
export const dlqSummarySchema = z.object({
  pipe: pipeKeySchema,
  queueUrl: z.string(),
  visible: z
    .number()
    .int()
    .describe('ApproximateNumberOfMessages (GetQueueAttributes; browsing receives nothing here)'),
  inFlight: z
    .number()
    .int()
    .describe('ApproximateNumberOfMessagesNotVisible: received and not yet deleted or released'),
  delayed: z.number().int().describe('ApproximateNumberOfMessagesDelayed'),
  oldestMessageAgeSeconds: z
    .number()
    .nullable()
    .describe(
      "CloudWatch's ApproximateAgeOfOldestMessage, the figure the DLQ age alarm evaluates (SQS leaves out a message received three or more times); null when the queue is empty or CloudWatch has no recent datapoint",
    ),
});
export type DlqSummary = z.infer<typeof dlqSummarySchema>;
export const dlqsResponseSchema = z.object({ dlqs: z.array(dlqSummarySchema) });
export type DlqsResponse = z.infer<typeof dlqsResponseSchema>;

export const pipeParamsSchema = z.object({ pipe: pipeKeySchema });
export const messageParamsSchema = z.object({
  pipe: pipeKeySchema,
  id: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[\w.:-]+$/, 'must be an SQS message id'),
});

export const listMessagesQuerySchema = z
  .object({
    limit: decimalParameter('limit', { min: 1, max: 100 }).default(20),
    cursor: z.string().max(512, 'cursor is too long').optional(),
    q: z.string().max(200, 'q must be at most 200 characters').optional().describe('order id, email or error text'),
    from: isoDateTime.optional().describe('messages sent to the DLQ at or after this time'),
    to: isoDateTime.optional().describe('messages sent to the DLQ at or before this time'),
  })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), { error: 'from must be before to' });
export type ListMessagesQuery = z.infer<typeof listMessagesQuerySchema>;

export const recordErrorSchema = z.object({
  name: z.string(),
  message: z.string(),
  classification: z.enum(FAILURE_CLASSIFICATIONS),
  attempts: z.number().int(),
  firstFailureAt: z.string(),
  lastFailureAt: z.string(),
});

export const filterExplanationSchema = z.object({
  rule: z.boolean().describe('the full business rule (the processor guard) matches'),
  pipeFilter: z.boolean().describe('the derived pipe filter matches the raw record'),
  failingClause: z
    .object({ id: z.string(), description: z.string() })
    .nullable()
    .describe(
      "the rule's first failing clause (pipeline's clause id, the `Clause` metric dimension); null when it matches",
    ),
  explanation: z.string(),
});
export type FilterExplanation = z.infer<typeof filterExplanationSchema>;

export const resolvedRecordSchema = z.object({
  eventId: z.string(),
  eventName: z.string(),
  sequenceNumber: z.string(),
  orderId: z.string().nullable(),
  source: z
    .enum(['stream', 'journal'])
    .describe(
      'where the record was read from: lists read the failure journal only; the single-message route reads the stream for records the journal lacks',
    ),
  newImage: json.nullable(),
  oldImage: json.nullable(),
  error: recordErrorSchema.nullable().describe("the failure journal's last error for this record"),
  currentItem: json.nullable().describe('the order as it is in the table now'),
  explanation: filterExplanationSchema.optional().describe('only on the single-message route'),
  alreadyProcessed: z
    .boolean()
    .optional()
    .describe(
      "only on the single-message route: the idempotency table says the processor already applied the record's effects",
    ),
});
export type ResolvedRecord = z.infer<typeof resolvedRecordSchema>;

export const batchInfoSchema = z.object({
  shardId: z.string(),
  startSequenceNumber: z.string(),
  endSequenceNumber: z.string(),
  approximateArrivalOfFirstRecord: z.string(),
  approximateArrivalOfLastRecord: z.string(),
  batchSize: z.number().int(),
  streamArn: z.string(),
});

export const dlqMessageSchema = z.object({
  id: z.string(),
  pipe: pipeKeySchema,
  sentAt: z.string().describe('when the pipe sent the message to the DLQ'),
  receiveCount: z.number().int(),
  condition: z.string().nullable(),
  batch: batchInfoSchema.nullable().describe('null when the body is not a pipe dead-letter message'),
  malformed: z.string().nullable().describe('why the body is not a pipe dead-letter message'),
  stale: z
    .boolean()
    .describe('the stream no longer holds the records (older than its 24 hours); only the journal has them'),
  missingRecords: z
    .number()
    .int()
    .optional()
    .describe(
      "records of the batch (its batchSize) not shown: a list shows the failure journal's records only, and an invocation that failed before its handler ran journals nothing; the single-message route reads them from the stream while it holds them",
    ),
  recordsNote: z.string().nullable().optional().describe('why records are missing, when some are'),
  records: z.array(resolvedRecordSchema),
});
export type DlqMessage = z.infer<typeof dlqMessageSchema>;

/** The single-message route adds the body exactly as SQS delivered it (the list leaves it out to stay small). */
export const dlqMessageDetailSchema = dlqMessageSchema.extend({
  body: z.string().describe('the DLQ message body as received from SQS, unparsed'),
});
export type DlqMessageDetail = z.infer<typeof dlqMessageDetailSchema>;

export const listMessagesResponseSchema = z.object({
  messages: z.array(dlqMessageSchema),
  cursor: z.string().nullable().describe('pass as `cursor` for the next page; null on the last page'),
  readAt: z
    .string()
    .describe(
      "when the queue was read for this view: a view is kept while the queue's counts are unchanged (each read is a receive of every message, which SQS counts)",
    ),
});
export type ListMessagesResponse = z.infer<typeof listMessagesResponseSchema>;

export const discardBodySchema = z
  .object({
    reason: z.string().trim().min(3, 'reason must say why (at least 3 characters)').max(500),
  })
  .strict();
export type DiscardBody = z.infer<typeof discardBodySchema>;
export const discardResponseSchema = z.object({ discarded: z.literal(true), id: z.string(), auditId: z.string() });
export type DiscardResponse = z.infer<typeof discardResponseSchema>;

// --- redrive ------------------------------------------------------------------------------------------------------
export const redriveBodySchema = z
  .object({
    messageIds: z.array(messageParamsSchema.shape.id).min(1).max(1000).optional(),
    all: z.literal(true).optional(),
    dryRun: z.boolean().default(false),
    ratePerSecond: z.number().int().min(1).max(1000).default(20).describe('messages started per second'),
  })
  .strict()
  .refine((body) => (body.messageIds === undefined) !== (body.all === undefined), {
    error: 'give either messageIds or all: true (not both)',
  })
  .superRefine((body, context) => {
    // A job counts the ids it was given: a repeated one would leave it at "1 of 2 done" after redriving everything.
    const seen = new Set<string>();
    for (const id of body.messageIds ?? []) {
      if (seen.has(id))
        context.addIssue({ code: 'custom', path: ['messageIds'], message: `names '${id}' more than once` });
      seen.add(id);
    }
  });
export type RedriveBody = z.input<typeof redriveBodySchema>;

export const redriveAcceptedSchema = z.object({ jobId: z.string() });
export type RedriveAccepted = z.infer<typeof redriveAcceptedSchema>;

export const redriveOutcomeSchema = z.enum([
  'would-redrive',
  'would-skip',
  'redriven',
  'kept',
  'already-being-redriven',
  'not-found',
  'cancelled',
]);
export type RedriveOutcome = z.infer<typeof redriveOutcomeSchema>;

export const redriveRecordResultSchema = z.object({
  eventId: z.string(),
  orderId: z.string().nullable(),
  source: z.enum(['stream', 'journal']),
  ruleVerdict: z.enum(['pass', 'reject']),
  ruleExplanation: z.string().nullable(),
  alreadyProcessed: z.boolean().describe('the idempotency table says its effects were already applied'),
  succeeded: z.boolean().nullable().describe('null on a dry run'),
  error: z.string().nullable(),
});

export const redriveMessageResultSchema = z.object({
  messageId: z.string(),
  outcome: redriveOutcomeSchema,
  reason: z.string().nullable(),
  stale: z.boolean(),
  records: z.array(redriveRecordResultSchema),
});
export type RedriveMessageResult = z.infer<typeof redriveMessageResultSchema>;

export const redriveStatusSchema = z.enum(['running', 'succeeded', 'partially-succeeded', 'failed', 'cancelled']);
export type RedriveStatus = z.infer<typeof redriveStatusSchema>;

export const redriveJobSchema = z.object({
  jobId: z.string(),
  pipe: pipeKeySchema,
  dryRun: z.boolean(),
  ratePerSecond: z.number(),
  actor: z.string(),
  status: redriveStatusSchema,
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  progress: z.object({ total: z.number().int(), done: z.number().int() }),
  note: z
    .string()
    .nullable()
    .describe(
      'why the job ended early (e.g. its instance stopped), or why a redrive of `all` found nothing: the DLQ was empty, or another running job (named when known) holds its messages',
    ),
  results: z.array(redriveMessageResultSchema),
  resultsOmitted: z
    .number()
    .int()
    .optional()
    .describe(
      'results left out of `results`: a job read from storage (another instance ran it) keeps what fits in one DynamoDB item; the audit log lists every message',
    ),
});
export type RedriveJob = z.infer<typeof redriveJobSchema>;
export const jobParamsSchema = z.object({ jobId: z.string().regex(/^[0-9a-f-]{36}$/, 'must be a job id') });

// --- metrics ------------------------------------------------------------------------------------------------------
export const metricsQuerySchema = z
  .object({
    pipe: pipeKeySchema,
    from: isoDateTime.optional(),
    to: isoDateTime.optional(),
    period: decimalParameter('period', { min: 60, max: METRICS_MAX_PERIOD_SECONDS })
      .refine((p) => p % 60 === 0, { error: (issue) => `period must be a multiple of 60 seconds, got ${issue.input}` })
      .default(300)
      .describe('seconds, from 60 to 86400, a multiple of 60'),
  })
  .refine(
    (q) => {
      const range = rangeOf(q, METRICS_DEFAULT_WINDOW_MS);
      return range.from < range.to;
    },
    { error: FROM_BEFORE_TO },
  )
  .superRefine((q, context) => {
    const range = rangeOf(q, METRICS_DEFAULT_WINDOW_MS);
    const seconds = (range.to - range.from) / 1000;
    if (!(seconds > 0) || typeof q.period !== 'number') return;
    const datapoints = Math.ceil(seconds / q.period);
    if (datapoints <= METRICS_MAX_DATAPOINTS) return;
    const fitting = Math.ceil(seconds / METRICS_MAX_DATAPOINTS / 60) * 60;
    const from = q.from ?? new Date(range.from).toISOString();
    const to = q.to ?? new Date(range.to).toISOString();
    context.addIssue({
      code: 'custom',
      message: `the range ${from}..${to} (${duration(seconds)}) at period ${q.period} s is ${datapoints} datapoints per series, more than the maximum of ${METRICS_MAX_DATAPOINTS}; ${
        fitting <= METRICS_MAX_PERIOD_SECONDS
          ? `use period=${fitting} or more, or a shorter range`
          : `no period up to ${METRICS_MAX_PERIOD_SECONDS} s fits: use a range of at most ${duration(METRICS_MAX_DATAPOINTS * METRICS_MAX_PERIOD_SECONDS)}`
      }`,
    });
  });
export type MetricsQuery = z.infer<typeof metricsQuerySchema>;

/** `90 days`, `3 hours`, `45 minutes`: a range's length as an operator would say it (to a tenth). */
function duration(seconds: number): string {
  const [amount, unit] =
    seconds >= 2 * 86_400
      ? [seconds / 86_400, 'days']
      : seconds >= 2 * 3600
        ? [seconds / 3600, 'hours']
        : [seconds / 60, 'minutes'];
  return `${Math.round(amount * 10) / 10} ${unit}`;
}

const funnelStage = z.object({
  value: z.number(),
  estimate: z.boolean().describe('true when derived rather than counted (the stream total in AWS)'),
  label: z.string(),
});
export const metricsResponseSchema = z.object({
  pipe: pipeKeySchema,
  from: z.string(),
  to: z.string(),
  period: z.number(),
  exact: z.boolean().describe('true locally, where the pipe emulator counts every polled record'),
  funnel: z.object({
    ...(Object.fromEntries(FUNNEL_STAGES.map((stage) => [stage, funnelStage])) as Record<
      FunnelStageKey,
      typeof funnelStage
    >),
    guardRejectedByClause: z.array(z.object({ clause: z.string(), description: z.string(), value: z.number() })),
  }),
  series: z.array(
    z.object({ stage: z.string(), points: z.array(z.object({ timestamp: z.string(), value: z.number() })) }),
  ),
});
export type MetricsResponse = z.infer<typeof metricsResponseSchema>;

// --- alarms -------------------------------------------------------------------------------------------------------
export const alarmSchema = z.object({
  name: z.string(),
  pipe: pipeKeySchema.nullable(),
  slug: z.string().nullable(),
  title: z.string(),
  state: z.enum(ALARM_STATES),
  reason: z.string(),
  since: z.string().nullable(),
  runbookUrl: z.string().nullable(),
  consoleUrl: z.string().nullable(),
});
export type Alarm = z.infer<typeof alarmSchema>;
export const alarmsResponseSchema = z.object({ alarms: z.array(alarmSchema) });
export type AlarmsResponse = z.infer<typeof alarmsResponseSchema>;

// --- filter lab ---------------------------------------------------------------------------------------------------
export const filterTestBodySchema = z.union([
  z.object({ record: json.describe('a raw DynamoDB stream record as a pipe delivers it') }).strict(),
  z
    .object({
      eventName: z.enum(STREAM_EVENT_NAMES),
      newImage: json.nullable().describe('the order as plain JSON (numbers as numbers)'),
      oldImage: json.nullable(),
    })
    .strict(),
]);
export type FilterTestBody = z.infer<typeof filterTestBodySchema>;
export const filterTestResponseSchema = z.object({
  results: z.record(pipeKeySchema, filterExplanationSchema),
});
export type FilterTestResponse = z.infer<typeof filterTestResponseSchema>;

// --- rule impact preview ------------------------------------------------------------------------------------------
/** Where an impact preview reads its records: the Orders stream's retained records, or the pipe's dead letters. */
export const IMPACT_SOURCES = ['stream', 'dead-letters'] as const;
export type ImpactSource = (typeof IMPACT_SOURCES)[number];
/** Records an impact preview evaluates at most (a stream scan reads at most 1,000 a second per shard). */
export const IMPACT_MAX_LIMIT = 100_000;
const IMPACT_DEFAULT_LIMIT = 10_000;

export const impactBodySchema = z
  .object({
    pipe: pipeKeySchema,
    rule: z
      .unknown()
      .refine((rule) => rule !== undefined, 'rule is required: the candidate rule, an event pattern')
      .describe(
        "the candidate rule: an event pattern in the full language, over the record's typed view (N values as numbers), like the pipes' rules",
      ),
    source: z.enum(IMPACT_SOURCES, {
      error: (issue) =>
        issue.input === undefined
          ? `source is required; expected one of ${IMPACT_SOURCES.join(', ')}`
          : `unknown source ${JSON.stringify(issue.input)}; expected one of ${IMPACT_SOURCES.join(', ')}`,
    }),
    limit: z
      .number({ error: 'limit must be a whole number' })
      .int({ error: (issue) => `limit must be a whole number, got ${issue.input}` })
      .min(1, { error: (issue) => `limit must be at least 1, got ${issue.input}` })
      .max(IMPACT_MAX_LIMIT, { error: (issue) => `limit must be at most ${IMPACT_MAX_LIMIT}, got ${issue.input}` })
      .default(IMPACT_DEFAULT_LIMIT)
      .describe(`records to evaluate at most, 1 to ${IMPACT_MAX_LIMIT} (default ${IMPACT_DEFAULT_LIMIT})`),
  })
  .strict();
export type ImpactBody = z.input<typeof impactBodySchema>;

export const impactAcceptedSchema = z.object({
  jobId: z.string(),
  pipeFilter: json.describe('the pipe filter derived from the candidate rule, valid for EventBridge Pipes'),
});
export type ImpactAccepted = z.infer<typeof impactAcceptedSchema>;

export const clauseFailureSchema = z.object({
  path: z.string().describe('dotted field path, e.g. dynamodb.NewImage.orderAmount.N'),
  clause: z.string().describe("the clause's matchers as written"),
  actual: z.unknown().describe('the value found (absent when the field is missing)'),
  message: z.string(),
});

export const impactSampleSchema = z.object({
  eventId: z.string(),
  eventName: z.string(),
  sequenceNumber: z.string(),
  orderId: z.string().nullable(),
  newImage: json.nullable(),
  oldImage: json.nullable(),
  current: z.object({
    accepted: z.boolean(),
    failingClause: z
      .object({ id: z.string(), description: z.string() })
      .nullable()
      .describe("the current rule's first failing clause (pipeline's clause id); null when it accepts"),
    failures: z.array(clauseFailureSchema).describe("the engine's explanation of the current rule's verdict"),
  }),
  candidate: z.object({
    accepted: z.boolean(),
    failures: z.array(clauseFailureSchema).describe("the engine's explanation of the candidate's verdict"),
  }),
  explanation: z.string().describe('which clauses make the difference, in words'),
});
export type ImpactSample = z.infer<typeof impactSampleSchema>;

export const impactStatusSchema = z.enum(['running', 'succeeded', 'failed', 'cancelled']);
export type ImpactStatus = z.infer<typeof impactStatusSchema>;

export const impactJobSchema = z.object({
  jobId: z.string(),
  pipe: pipeKeySchema,
  source: z.enum(IMPACT_SOURCES),
  limit: z.number().int(),
  actor: z.string(),
  status: impactStatusSchema,
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  rule: z.unknown().describe('the candidate rule as sent'),
  pipeFilter: json.describe('the pipe filter derived from the candidate rule'),
  progress: z.object({
    done: z.number().int(),
    total: z.number().int().nullable(),
    unit: z.enum(['shards', 'messages']).describe('stream: shards read to their end; dead-letters: DLQ messages'),
  }),
  complete: z
    .boolean()
    .describe(
      'every record of the source was evaluated (false: the limit, a cancel or the run time cut it short; see note)',
    ),
  note: z.string().nullable(),
  evaluated: z.number().int().describe('records evaluated (so far, while running)'),
  current: z.number().int().describe("of those, how many the pipe's current rule accepts"),
  candidate: z.number().int().describe('of those, how many the candidate rule accepts'),
  changedCount: z.number().int().describe('records whose verdict changes (`changed` holds samples of them)'),
  changed: z.array(impactSampleSchema),
});
export type ImpactJob = z.infer<typeof impactJobSchema>;

// --- audit --------------------------------------------------------------------------------------------------------
export const auditQuerySchema = z
  .object({
    from: isoDateTime.optional(),
    to: isoDateTime.optional(),
    actor: z.string().max(200).optional(),
    limit: decimalParameter('limit', { min: 1, max: 500 }).default(100),
  })
  .refine(
    (q) => {
      const range = rangeOf(q, AUDIT_DEFAULT_WINDOW_MS);
      return range.from <= range.to;
    },
    { error: FROM_BEFORE_TO },
  )
  .refine(
    (q) => {
      const range = rangeOf(q, AUDIT_DEFAULT_WINDOW_MS);
      return range.to - range.from <= 31 * 86_400_000;
    },
    { error: 'the range from..to must be at most 31 days (to is now when left out)' },
  );
export type AuditQuery = z.infer<typeof auditQuerySchema>;

export const auditEntrySchema = z.object({
  id: z.string(),
  at: z.string(),
  actor: z.string(),
  role: roleSchema,
  action: z.enum(['redrive', 'redrive-dry-run', 'redrive-cancel', 'discard', 'pipe-stop', 'pipe-start']),
  pipe: pipeKeySchema,
  messageIds: z.array(z.string()),
  outcome: z.string(),
  detail: z.string().nullable(),
  jobId: z.string().nullable(),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;
export const auditResponseSchema = z.object({ entries: z.array(auditEntrySchema) });
export type AuditResponse = z.infer<typeof auditResponseSchema>;

// --- console config -----------------------------------------------------------------------------------------------
export const consoleConfigSchema = z.object({
  apiBaseUrl: z.string(),
  auth: z.union([
    z.object({ mode: z.literal('local') }),
    z.object({
      mode: z.literal('cognito'),
      userPoolId: z.string(),
      clientId: z.string(),
      domain: z.string(),
      region: z.string(),
    }),
  ]),
});
export type ConsoleConfig = z.infer<typeof consoleConfigSchema>;

// --- local runtime only: IAM denials and the on-call inbox --------------------------------------------------------
/**
 * What the local runtime records that AWS keeps elsewhere: requests its IAM enforcement refused (in AWS: CloudTrail)
 * and the email its SNS endpoint delivered (in AWS: the subscribers' mailboxes). `available: false` says why there is
 * nothing to show: the API runs in AWS, or the local runtime does not record it (`--iam off`).
 */
const unavailableSchema = z.object({
  available: z.literal(false),
  reason: z.string().describe('why nothing can be shown, in words'),
});

export const localListQuerySchema = z.object({
  limit: decimalParameter('limit', { min: 1, max: 100 }).default(20),
});
export type LocalListQuery = z.infer<typeof localListQuerySchema>;

export const denialSchema = z.object({
  time: z.string().describe('ISO 8601'),
  principal: z.string().describe('the assumed-role session ARN, a service principal, or anonymous'),
  role: z.string().nullable().describe("the role's logical id in the template, when a role acted"),
  action: z.string(),
  resource: z.string(),
  reason: z.string().describe('why: no-identity-allow, explicit-deny-resource, unsigned, ...'),
  message: z.string().describe('the error the caller received, in AWS words'),
  policy: z.string().nullable().describe('the statement that denied, when an explicit Deny did'),
  endpoint: z.string().describe('where the request came in: dynamodb, sqs, lambda, cloudwatch, sns, pipe, ...'),
});
export type Denial = z.infer<typeof denialSchema>;
export const denialsResponseSchema = z.union([
  z.object({
    available: z.literal(true),
    total: z.number().int().describe('denials since the runtime started'),
    denials: z.array(denialSchema).describe('the most recent first'),
  }),
  unavailableSchema,
]);
export type DenialsResponse = z.infer<typeof denialsResponseSchema>;

export const alarmNotificationSchema = z.object({
  name: z.string(),
  description: z.string().nullable(),
  newState: z.enum(ALARM_STATES),
  oldState: z.enum(ALARM_STATES).nullable(),
  reason: z.string(),
  stateChangeTime: z.string(),
  runbookUrl: z.string().nullable().describe("the description's runbook link"),
  consoleUrl: z.string().nullable().describe("the description's console deep link"),
});
export type AlarmNotification = z.infer<typeof alarmNotificationSchema>;

export const inboxMessageSchema = z.object({
  id: z.string().describe("the message's file in the outbox"),
  to: z.string(),
  deliveredAt: z.string().describe('ISO 8601'),
  subject: z.string().nullable(),
  topicArn: z.string(),
  messageId: z.string(),
  body: z.string().describe('the email-json body as the subscriber received it'),
  alarm: alarmNotificationSchema.nullable().describe('the alarm notification the message carries, if it is one'),
});
export type InboxMessage = z.infer<typeof inboxMessageSchema>;
export const inboxResponseSchema = z.union([
  z.object({
    available: z.literal(true),
    messages: z.array(inboxMessageSchema).describe('the most recent first'),
  }),
  unavailableSchema,
]);
export type InboxResponse = z.infer<typeof inboxResponseSchema>;

// --- dead-letter store (./dead-letters.ts) ------------------------------------------------------------------------
export * from './dead-letters.ts';
