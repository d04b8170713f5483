import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { auditQuerySchema, auditResponseSchema } from '../schemas/index.ts';
import { ERROR_RESPONSES } from './errors.ts';

const audit: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/audit',
    {
      schema: {
        summary: 'Who did what, when, to which messages, with what outcome (newest first)',
        querystring: auditQuerySchema,
        response: { 200: auditResponseSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => ({ entries: await app.ops.audit.list(request.query) }),
  );
};
export default audit;
