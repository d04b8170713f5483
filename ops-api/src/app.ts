import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { type AwsClients, createAwsClients } from './clients.ts';
import type { OpsApiConfig } from './config.ts';
import auth from './plugins/auth.ts';
import consoleStatic from './plugins/console-static.ts';
import errorHandler from './plugins/error-handler.ts';
import security from './plugins/security.ts';
import services from './plugins/services.ts';
import swagger from './plugins/swagger.ts';
import audit from './routes/audit.ts';
import deadLetters from './routes/dead-letters.ts';
import dlqs from './routes/dlqs.ts';
import filters from './routes/filters.ts';
import health from './routes/health.ts';
import localOps from './routes/local-ops.ts';
import me from './routes/me.ts';
import observability from './routes/observability.ts';
import pipes from './routes/pipes.ts';
import redrives from './routes/redrives.ts';
import { tableRateLimitStore } from './services/rate-limit-store.ts';

/** Request bodies are small JSON documents (a redrive of 1,000 ids is ~40 KB); anything larger is a 413. */
export const BODY_LIMIT_BYTES = 64 * 1024;

export interface OpsApiDeps {
  /** AWS SDK clients to use instead of creating them from the config (tests). */
  readonly clients?: AwsClients;
  /** Fastify server options (logger, ...). Default: warnings and errors logged as JSON. */
  readonly server?: FastifyServerOptions;
}

/** The ops API as a plugin: third-party setup, then services, then routes under `/api`. */
export async function opsApi(app: FastifyInstance, options: { config: OpsApiConfig; clients?: AwsClients }) {
  const { config } = options;
  // One set of SDK clients for the app: injected ones (tests) stay the caller's; created ones are destroyed on close.
  const clients = options.clients ?? createAwsClients(config);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(errorHandler);
  await app.register(security, {
    config,
    ...(config.rateLimitStore === 'table'
      ? { rateLimitStore: tableRateLimitStore(clients.dynamodb, config.tables.jobs, app.log) }
      : {}),
  });
  await app.register(swagger, { docs: config.docs });
  await app.register(auth, {
    auth: options.config.auth,
    perPrincipalPerMinute: options.config.rateLimitPerMinute,
    unauthenticatedPerMinute: options.config.unauthenticatedRateLimitPerMinute,
  });
  await app.register(services, { config, clients, destroyClients: !options.clients });
  await app.register(
    async (api) => {
      for (const routes of [health, me, pipes, dlqs, deadLetters, redrives, observability, filters, audit, localOps])
        await api.register(routes);
    },
    { prefix: '/api' },
  );
  await app.register(consoleStatic, { config: options.config });
}

/** A ready-to-listen (not listening) Fastify instance. */
export async function buildApp(config: OpsApiConfig, deps: OpsApiDeps = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: 'warn' },
    bodyLimit: BODY_LIMIT_BYTES,
    // Never X-Forwarded-For: the client writes it (API Gateway appends to what the client sent). `request.ip` is the
    // socket's peer; in Lambda @fastify/aws-lambda sets it from the event's requestContext.http.sourceIp, the address
    // API Gateway saw. The rate limit of unauthenticated requests keys on it.
    trustProxy: false,
    ...deps.server,
  }).withTypeProvider<ZodTypeProvider>();
  // Not encapsulated: `app.ops` (the services) is reachable from the instance, for the Lambda handler's job events.
  await app.register(fp(opsApi, { name: 'orderflow-ops-api' }), {
    config,
    ...(deps.clients ? { clients: deps.clients } : {}),
  });
  await app.ready();
  return app;
}
