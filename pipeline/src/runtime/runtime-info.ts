import * as z from 'zod/mini';
import '../schema.ts';

/**
 * `.orderflow/runtime.json`, written by `npm start` (the local runtime) for tools and tests, and read by the ops API
 * to point the AWS SDK clients at the local endpoints.
 */
export const RUNTIME_INFO_FILE = '.orderflow/runtime.json';

const pipeResources = z.object({
  name: z.string(),
  function: z.string(),
  dlqUrl: z.url(),
});

export const runtimeInfoSchema = z.object({
  region: z.string(),
  endpoints: z.object({
    dynamodb: z.url(),
    dynamodbStreams: z.url(),
    sqs: z.url(),
    lambda: z.url(),
    cloudwatch: z.url(),
  }),
  opsApi: z.optional(z.url()),
  console: z.optional(z.url()),
  tokens: z.object({ operator: z.string(), viewer: z.string() }),
  resources: z.object({
    ordersTable: z.string(),
    journalTable: z.string(),
    idempotencyTable: z.string(),
    auditTable: z.string(),
    priorityShipmentsTable: z.string(),
    notificationQueueUrl: z.url(),
    accountManagerQueueUrl: z.url(),
    pipes: z.object({ standard: pipeResources, premium: pipeResources }),
  }),
});

export type RuntimeInfo = z.infer<typeof runtimeInfoSchema>;
