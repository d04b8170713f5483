import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { alarmsResponseSchema, metricsQuerySchema, metricsResponseSchema } from '../schemas/index.ts';
import { ERROR_RESPONSES } from './errors.ts';

const observability: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/metrics/filter',
    {
      schema: {
        summary: 'Filter-match funnel and time series of a pipe, from CloudWatch',
        querystring: metricsQuerySchema,
        response: { 200: metricsResponseSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => app.ops.metrics.funnel(request.query),
  );

  app.get(
    '/alarms',
    {
      schema: {
        summary: 'Alarm states with runbook and console deep links',
        response: { 200: alarmsResponseSchema, ...ERROR_RESPONSES },
      },
    },
    async () => ({ alarms: await app.ops.alarms.list() }),
  );
};
export default observability;
