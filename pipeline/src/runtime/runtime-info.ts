import * as z from 'zod/mini';
import '../zod-locale.ts';

const pipeResources = z.object({
  name: z.string(),
  function: z.string(),
  dlqUrl: z.url(),
});

/** A role of the template and the local keys that act as it. */
const principal = z.object({
  roleArn: z.string(),
  accessKeyId: z.string(),
  secretAccessKey: z.string(),
  sessionToken: z.optional(z.string()),
});

/** The contents of `RUNTIME_INFO_FILE` (`.orderflow/runtime.json`). */
export const runtimeInfoSchema = z.object({
  region: z.string(),
  endpoints: z.object({
    dynamodb: z.url(),
    dynamodbStreams: z.url(),
    sqs: z.url(),
    lambda: z.url(),
    cloudwatch: z.url(),
    /** The local SNS endpoint (query protocol; `/_local/outbox` lists email deliveries). Optional: older files lack it. */
    sns: z.optional(z.url()),
    /**
     * The local Pipes API (ListPipes, DescribePipe, StartPipe, StopPipe), served on the Lambda endpoint's server.
     * Optional: older files lack it.
     */
    pipes: z.optional(z.url()),
    /**
     * The local CloudFormation read API (DescribeStacks, DescribeStackResource(s), ListStackResources) of the stack
     * the runtime runs, its own server. Optional: older files lack it.
     */
    cloudformation: z.optional(z.url()),
    /** CloudWatch Logs (FilterLogEvents, DescribeLogGroups), served on the CloudWatch endpoint. Optional: older files lack it. */
    logs: z.optional(z.url()),
    /** CloudTrail's LookupEvents over the runtime's management trail, served on the CloudWatch endpoint. Optional. */
    cloudtrail: z.optional(z.url()),
  }),
  opsApi: z.optional(z.url()),
  console: z.optional(z.url()),
  tokens: z.object({ operator: z.string(), viewer: z.string() }),
  /**
   * Local IAM enforcement: `on` unless the runtime runs with `--iam off`, and where its denials are listed
   * (`GET` for the most recent first). Optional so that files of runtimes before enforcement still parse.
   */
  iam: z.optional(z.object({ enforcement: z.enum(['on', 'off']), denials: z.optional(z.url()) })),
  /** Each role of the template (by logical id) and its local keys, random per start; empty with `--iam off`. */
  principals: z.optional(z.record(z.string(), principal)),
  resources: z.object({
    ordersTable: z.string(),
    journalTable: z.string(),
    idempotencyTable: z.string(),
    auditTable: z.string(),
    /** The ops API's redrive jobs and message leases (`LOGICAL_IDS.jobsTable`). */
    jobsTable: z.string(),
    /** The dead-letter store (`LOGICAL_IDS.deadLetterTable`), which the ops API's `/api/dead-letters` routes read. */
    deadLetterTable: z.string(),
    priorityShipmentsTable: z.string(),
    notificationQueueUrl: z.url(),
    accountManagerQueueUrl: z.url(),
    pipes: z.object({ standard: pipeResources, premium: pipeResources }),
  }),
});

export type RuntimeInfo = z.infer<typeof runtimeInfoSchema>;
