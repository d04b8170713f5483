import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  discardBodySchema,
  discardResponseSchema,
  dlqMessageDetailSchema,
  dlqsResponseSchema,
  listMessagesQuerySchema,
  listMessagesResponseSchema,
  messageParamsSchema,
  pipeParamsSchema,
} from '../schemas/index.ts';
import { actorOf, ERROR_RESPONSES } from './errors.ts';

const dlqs: FastifyPluginAsyncZod = async (app) => {
  const serializedPages = new WeakMap<object, string>();
  app.get(
    '/dlqs',
    {
      schema: {
        summary: 'Per pipe: queue URL, visible and in-flight counts, age of the oldest message',
        response: { 200: dlqsResponseSchema, ...ERROR_RESPONSES },
      },
    },
    async () => ({ dlqs: await app.ops.browser.summaries() }),
  );

  app.get(
    '/dlqs/:pipe/messages',
    {
      schema: {
        summary: 'DLQ messages resolved to their records (browsing never consumes them)',
        params: pipeParamsSchema,
        querystring: listMessagesQuerySchema,
        response: { 200: listMessagesResponseSchema, ...ERROR_RESPONSES },
      },
    },
    async (request, reply) => {
      const page = await app.ops.browser.list(request.params.pipe, request.query);
      // Concurrent requests for a page get the same object: validate and serialize it once, not once per request
      // (this was most of the CPU time of a busy list route). A string payload skips the route's serializer.
      let json = serializedPages.get(page);
      if (json === undefined) {
        json = JSON.stringify(listMessagesResponseSchema.parse(page));
        serializedPages.set(page, json);
      }
      return reply.type('application/json; charset=utf-8').send(json as never);
    },
  );

  app.get(
    '/dlqs/:pipe/messages/:id',
    {
      schema: {
        summary:
          'One DLQ message in full: its raw body, and per record the filter explanation and whether the processor already applied it',
        params: messageParamsSchema,
        response: { 200: dlqMessageDetailSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => app.ops.browser.get(request.params.pipe, request.params.id),
  );

  app.delete(
    '/dlqs/:pipe/messages/:id',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'Discard a DLQ message (operators; a reason is required and audited)',
        params: messageParamsSchema,
        body: discardBodySchema,
        response: { 200: discardResponseSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) =>
      app.ops.redrive.discard(request.params.pipe, request.params.id, request.body.reason, actorOf(request)),
  );
};
export default dlqs;
