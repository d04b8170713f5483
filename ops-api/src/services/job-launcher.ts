import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { z } from 'zod';
import type { JobLauncher } from './redrive.ts';

const jobIdSchema = z.object({ jobId: z.string().regex(/^[0-9a-f-]{36}$/, 'must be a job id') }).strict();

/**
 * The event the ops API's function sends itself to run a job (`lambda.ts` tells it from an API Gateway event): a
 * redrive job, or a rule impact preview (`impact.ts`). It names the job only: what to do is read from the stored job,
 * so an event that names no stored, running, unclaimed job does nothing, whoever sent it.
 */
export const jobEventSchema = z.union([
  z.object({ orderflowRedriveJob: jobIdSchema }).strict(),
  z.object({ orderflowImpactJob: jobIdSchema }).strict(),
]);
export type JobEvent = z.infer<typeof jobEventSchema>;
/** Which kind of job an event runs: the event's one key. */
export type JobEventKind = 'orderflowRedriveJob' | 'orderflowImpactJob';

/**
 * Starts a job in its own invocation of the ops API's function (InvocationType `Event`: Lambda queues the event and
 * answers 202 at once), which gets the function's whole timeout (15 minutes) instead of what is left of a request's
 * 30 seconds. Lambda retries an asynchronous invocation that fails or times out (twice by default), and may deliver
 * one twice: `JobStore.claimRun` lets one run at a time hold the job, and a retry after a run died continues it.
 */
export class LambdaEventLauncher implements JobLauncher {
  constructor(
    private readonly lambda: LambdaClient,
    private readonly functionName: string,
    private readonly kind: JobEventKind = 'orderflowRedriveJob',
  ) {}

  async launch(jobId: string): Promise<void> {
    const event = { [this.kind]: { jobId } } as JobEvent;
    const answer = await this.lambda.send(
      new InvokeCommand({
        FunctionName: this.functionName,
        InvocationType: 'Event',
        Payload: new TextEncoder().encode(JSON.stringify(event)),
      }),
    );
    if (answer.StatusCode !== 202) {
      throw new Error(`Lambda did not queue the job's invocation (status ${answer.StatusCode ?? 'none'})`);
    }
  }
}
