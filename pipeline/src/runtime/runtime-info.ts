import * as z from 'zod';

/**
 * `.orderflow/runtime.json`, written by `npm start` (the local runtime) for tools and tests, and read by the ops API
 * to point the AWS SDK clients at the local endpoints.
 */
export const RUNTIME_INFO_FILE = '.orderflow/runtime.json';

const pipeResources = z.object({
  name: z.string(),
  function: z.string(),
  dlqUrl: z.string().url(),
});

export const runtimeInfoSchema = z.object({
  region: z.string(),
  endpoints: z.object({
    dynamodb: z.string().url(),
    dynamodbStreams: z.string().url(),
    sqs: z.string().url(),
    lambda: z.string().url(),
    cloudwatch: z.string().url(),
  }),
  opsApi: z.string().url().optional(),
  console: z.string().url().optional(),
  tokens: z.object({ operator: z.string(), viewer: z.string() }),
  resources: z.object({
    ordersTable: z.string(),
    journalTable: z.string(),
    idempotencyTable: z.string(),
    auditTable: z.string(),
    priorityShipmentsTable: z.string(),
    notificationQueueUrl: z.string().url(),
    accountManagerQueueUrl: z.string().url(),
    pipes: z.object({ standard: pipeResources, premium: pipeResources }),
  }),
});

export type RuntimeInfo = z.infer<typeof runtimeInfoSchema>;
