import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  deadLetterCausesQuerySchema,
  deadLetterCausesResponseSchema,
  deadLetterDetailSchema,
  deadLetterParamsSchema,
  listDeadLettersQuerySchema,
  listDeadLettersResponseSchema,
} from '../schemas/index.ts';
import { ERROR_RESPONSES } from './errors.ts';

/** The dead-letter store, read only (viewers and operators): no route here receives a DLQ message. */
const deadLetters: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/dead-letters',
    {
      schema: {
        summary:
          'Dead letters from the store, newest first: filter by pipe, state, orderId, q (order id, email, error text), cause, from/to (failedAt); cursor pagination; the exact total',
        querystring: listDeadLettersQuerySchema,
        response: { 200: listDeadLettersResponseSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => app.ops.deadLetters.list(request.query),
  );

  // Registered before `/dead-letters/:id`; a static segment wins over a parameter in Fastify's router anyway.
  app.get(
    '/dead-letters/causes',
    {
      schema: {
        summary: 'Dead letters grouped by cause signature: exact counts, first and last failure, pipes; largest first',
        querystring: deadLetterCausesQuerySchema,
        response: { 200: deadLetterCausesResponseSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => ({ causes: await app.ops.deadLetters.causes(request.query) }),
  );

  app.get(
    '/dead-letters/:id',
    {
      schema: {
        summary: "One dead letter whole: its records' stream JSON and the DLQ body exactly as the pipe sent it",
        params: deadLetterParamsSchema,
        response: { 200: deadLetterDetailSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => app.ops.deadLetters.get(request.params.id),
  );
};
export default deadLetters;
