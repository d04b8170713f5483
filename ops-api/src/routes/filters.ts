import { parseStreamRecord, StreamRecordError } from '@orderflow/pipeline/schemas';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { BadRequestError, OpsApiError } from '../errors.ts';
import {
  filterTestBodySchema,
  filterTestResponseSchema,
  impactAcceptedSchema,
  impactBodySchema,
  impactJobSchema,
  jobParamsSchema,
} from '../schemas/index.ts';
import { streamRecordFor } from '../services/filter-lab.ts';
import { candidatePipeFilter, IMPACT_RUNS_PER_MINUTE } from '../services/impact.ts';
import { actorOf, ERROR_RESPONSES } from './errors.ts';

const filters: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/filters/test',
    {
      schema: {
        summary: 'Evaluate both pipes on a record: rule, pipe filter, and which clause fails, in words',
        body: filterTestBodySchema,
        response: { 200: filterTestResponseSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const body = request.body;
      let record: unknown;
      if ('record' in body) {
        try {
          record = parseStreamRecord(body.record);
        } catch (error: unknown) {
          if (error instanceof StreamRecordError)
            throw new BadRequestError(`record: ${error.message}`, { cause: error });
          throw error;
        }
      } else {
        record = streamRecordFor(body);
      }
      return { results: app.ops.lab.explainAll(record) };
    },
  );

  // Impact previews per principal, counted apart from (and on top of) the API's general rate limit.
  const impactLimit = app.createRateLimit({
    max: app.ops.config.impactRunsPerMinute ?? IMPACT_RUNS_PER_MINUTE,
    timeWindow: 60_000,
    keyGenerator: (request) => `impact:${request.actor?.name ?? request.ip}`,
  });

  app.post(
    '/filters/impact',
    {
      schema: {
        summary:
          "Preview a candidate rule on real history: how many records the pipe's current rule and the candidate accept, and samples of those whose verdict changes, explained. Answers 202 with the job id and the derived pipe filter; poll GET /api/filters/impact/{jobId}",
        body: impactBodySchema,
        response: { 202: impactAcceptedSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const { pipe, rule, source, limit: records } = request.body;
      // Bad input is a 400 before the budget is looked at: a typo does not cost an operator a preview.
      candidatePipeFilter(pipe, rule);
      const limit = await impactLimit(request);
      if (!limit.isAllowed && limit.isExceeded) {
        reply.header('retry-after', limit.ttlInSeconds);
        throw new OpsApiError(
          429,
          `rate limit exceeded: more than ${limit.max} impact previews a minute for ${actor.name}; retry in ${limit.ttlInSeconds} s`,
        );
      }
      const accepted = await app.ops.impact.start({ pipe, rule, source, limit: records }, actor);
      return reply.code(202).send(accepted);
    },
  );

  app.get(
    '/filters/impact/:jobId',
    {
      schema: {
        summary: 'Progress and result of an impact preview (the counts so far while it runs)',
        params: jobParamsSchema,
        response: { 200: impactJobSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => app.ops.impact.get(request.params.jobId),
  );

  app.delete(
    '/filters/impact/:jobId',
    {
      schema: {
        summary: 'Cancel an impact preview (its own starter or an operator); the counts so far stay, marked incomplete',
        params: jobParamsSchema,
        response: { 200: impactJobSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => app.ops.impact.cancel(request.params.jobId, actorOf(request)),
  );
};
export default filters;
