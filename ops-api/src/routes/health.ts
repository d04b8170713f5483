import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { errorResponseSchema, healthResponseSchema } from '../schemas/index.ts';

const health: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/health',
    {
      config: { access: 'none' },
      schema: {
        summary: 'Liveness (no authentication)',
        security: [],
        response: { 200: healthResponseSchema, 500: errorResponseSchema },
      },
    },
    async () => ({ status: 'ok' as const, mode: app.ops.config.mode }),
  );
};
export default health;
