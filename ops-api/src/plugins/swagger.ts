import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';

export interface SwaggerOptions {
  /**
   * `ui`: Swagger UI at `/docs` and the document at `/docs/json` (a server on a machine). `document`: the document
   * only, at `/docs/json`: the UI's assets are files beside its module, which a single-file Lambda bundle does not
   * carry (registering it there fails at init, `__dirname` being undefined in an ES module).
   */
  readonly docs: 'ui' | 'document';
}

/** OpenAPI generated from the routes' zod schemas: the document at `/docs/json`, with the UI at `/docs`. */
export default fp(
  async (app: FastifyInstance, options: SwaggerOptions) => {
    await app.register(swagger, {
      openapi: {
        info: {
          title: 'Orderflow ops API',
          description: 'Inspect DLQs, explain filters, redrive safely, audit everything.',
          version: '1.0.0',
        },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
        security: [{ bearer: [] }],
      },
      transform: jsonSchemaTransform,
    });
    if (options.docs === 'ui')
      await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true, uiConfig: { deepLinking: false } });
    else app.get('/docs/json', { schema: { hide: true } }, async () => app.swagger());
  },
  { name: 'ops-swagger' },
);
