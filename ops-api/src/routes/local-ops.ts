import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { denialsResponseSchema, inboxResponseSchema, localListQuerySchema } from '../schemas/index.ts';
import { ERROR_RESPONSES } from './errors.ts';

/**
 * What only the local runtime records (services/local-records.ts): its IAM denials, which in AWS are CloudTrail
 * events, and its email outbox, which in AWS is the subscribers' mailboxes. Both answer 200 everywhere: in AWS with
 * `available: false` and the reason, so the console can say so instead of showing an error.
 */
const localOps: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/local/denials',
    {
      schema: {
        summary: "The local runtime's most recent IAM denials (local runtime only; in AWS see CloudTrail)",
        querystring: localListQuerySchema,
        response: { 200: denialsResponseSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => app.ops.local.denials(request.query.limit),
  );

  app.get(
    '/local/inbox',
    {
      schema: {
        summary: "Email the local runtime delivered (its outbox): the on-call address's alarm notifications",
        querystring: localListQuerySchema,
        response: { 200: inboxResponseSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => app.ops.local.inbox(request.query.limit),
  );
};
export default localOps;
