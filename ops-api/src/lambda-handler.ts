import awsLambdaFastify from '@fastify/aws-lambda';
import type { FastifyInstance } from 'fastify';
import { jobEventSchema } from './services/job-launcher.ts';

/** The part of the Lambda context the handler reads. */
export interface LambdaContextLike {
  readonly awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

/**
 * The ops API function's handler. It receives two kinds of events:
 *
 * - API Gateway HTTP API requests (payload format 2.0), answered by the Fastify app through `@fastify/aws-lambda`. A
 *   POST of a redrive stores the job and answers 202 at once; the job does not run in this invocation, which Lambda
 *   freezes once it has answered and which API Gateway gives 30 seconds at most (docs/AWS-FACTS.md, fact 14).
 * - Redrive jobs (`{"orderflowRedriveJob": {"jobId": ...}}`, see `job-launcher.ts`) and rule impact previews
 *   (`{"orderflowImpactJob": ...}`, `impact.ts`), sent by the function to itself
 *   as asynchronous invocations: the job runs here with the invocation's whole timeout, stopping to record its end a
 *   minute before it (`RUN_STOP_MARGIN_MS`). Answers `{ ran: false }` for a job another run holds or that ended.
 */
export function lambdaHandler(app: FastifyInstance) {
  // No `request.awsLambda` decoration: the app is ready (decorating now would throw), and nothing reads it; the
  // client address comes from the event's requestContext.http.sourceIp, which the adapter passes as remoteAddress.
  const proxy = awsLambdaFastify(app, { decorateRequest: false });
  return async (event: unknown, context: LambdaContextLike): Promise<unknown> => {
    const job = jobEventSchema.safeParse(event);
    if (job.success) {
      const run = {
        runner: `lambda ${context.awsRequestId}`,
        deadline: Date.now() + context.getRemainingTimeInMillis(),
      };
      const ran =
        'orderflowRedriveJob' in job.data
          ? await app.ops.redrive.runJob(job.data.orderflowRedriveJob.jobId, run)
          : await app.ops.impact.runJob(job.data.orderflowImpactJob.jobId, run);
      return { ran };
    }
    return proxy(event as Parameters<typeof proxy>[0], context as unknown as Parameters<typeof proxy>[1]);
  };
}
