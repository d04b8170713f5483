import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { OpsApiConfig } from '../config.ts';
import { type ConsoleConfig, consoleConfigSchema, errorResponseSchema } from '../schemas/index.ts';

/** The built console at `/` with SPA fallback (client-side routes answer index.html), and its `/config.json`. */
export default fp(
  async (app: FastifyInstance, options: { config: OpsApiConfig }) => {
    const { config } = options;
    const consoleConfig: ConsoleConfig = {
      apiBaseUrl: '',
      auth:
        config.auth.mode === 'local'
          ? { mode: 'local' }
          : {
              mode: 'cognito',
              userPoolId: config.auth.userPoolId,
              clientId: config.auth.clientId,
              domain: config.auth.domain,
              region: config.auth.region,
            },
    };
    app.withTypeProvider<ZodTypeProvider>().get(
      '/config.json',
      {
        config: { access: 'none' },
        schema: { hide: true, response: { 200: consoleConfigSchema, 429: errorResponseSchema } },
      },
      async () => consoleConfig,
    );
    if (!config.consoleDir) return;
    const root = resolve(config.consoleDir);
    if (!existsSync(join(root, 'index.html'))) {
      throw new Error(`consoleDir ${root} has no index.html; build the console first (npm run build -w console)`);
    }
    await app.register(fastifyStatic, { root, wildcard: false, index: 'index.html' });
    app.get('/*', { config: { access: 'none' }, schema: { hide: true } }, (request, reply) => {
      const path = request.url.split('?')[0] ?? '/';
      if (path.startsWith('/api/') || path.startsWith('/docs')) {
        return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no route GET ${path}` });
      }
      // Files were registered as routes at start (wildcard: false); anything else is a client-side route.
      return reply.sendFile('index.html');
    });
  },
  { name: 'ops-console' },
);
