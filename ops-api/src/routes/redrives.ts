import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  jobParamsSchema,
  pipeParamsSchema,
  redriveAcceptedSchema,
  redriveBodySchema,
  redriveJobSchema,
} from '../schemas/index.ts';
import { actorOf, ERROR_RESPONSES } from './errors.ts';

const redrives: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/dlqs/:pipe/redrive',
    {
      config: { access: 'operator' },
      schema: {
        summary:
          'Start a redrive job (dry run first): {messageIds} or {all: true}. Answers 202 with the job id at once; the job runs on its own (poll GET /api/redrives/{jobId})',
        params: pipeParamsSchema,
        body: redriveBodySchema,
        response: { 202: redriveAcceptedSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const { messageIds, all, dryRun, ratePerSecond } = request.body;
      const jobId = await app.ops.redrive.start(
        {
          pipe: request.params.pipe,
          ...(messageIds ? { messageIds } : {}),
          ...(all ? { all } : {}),
          dryRun,
          ratePerSecond,
        },
        actorOf(request),
      );
      return reply.code(202).send({ jobId });
    },
  );

  app.get(
    '/redrives/:jobId',
    {
      schema: {
        summary: 'Progress and outcome of a redrive job',
        params: jobParamsSchema,
        response: { 200: redriveJobSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => app.ops.redrive.get(request.params.jobId),
  );

  app.delete(
    '/redrives/:jobId',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'Cancel a redrive job (messages not yet redriven stay in the DLQ)',
        params: jobParamsSchema,
        response: { 200: redriveJobSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => app.ops.redrive.cancel(request.params.jobId, actorOf(request)),
  );
};
export default redrives;
