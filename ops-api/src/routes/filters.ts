import { parseStreamRecord, StreamRecordError } from '@orderflow/pipeline/schemas';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { BadRequestError } from '../errors.ts';
import { filterTestBodySchema, filterTestResponseSchema } from '../schemas/index.ts';
import { streamRecordFor } from '../services/filter-lab.ts';
import { ERROR_RESPONSES } from './errors.ts';

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
};
export default filters;
