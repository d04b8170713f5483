import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { meResponseSchema } from '../schemas/index.ts';
import { actorOf, ERROR_RESPONSES } from './errors.ts';

const me: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/me',
    {
      schema: {
        summary: 'Who the bearer token stands for and their role (the console gates its actions on it)',
        response: { 200: meResponseSchema, ...ERROR_RESPONSES },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      return { actor: actor.name, role: actor.role };
    },
  );
};
export default me;
