import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit, { type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { OpsApiConfig } from '../config.ts';

/**
 * Helmet headers, CORS for the console's origin only, and the rate limiter's counters: applied per principal by the
 * auth plugin (`createRateLimit`), which knows who is asking. `rateLimitStore` keeps the counters somewhere every
 * instance sees (in AWS each Lambda instance has its own memory, so in-memory counters would give every instance a
 * full budget); without one they are in this process's memory, exact for a single process (the local runtime).
 */
export default fp(
  async (app: FastifyInstance, options: { config: OpsApiConfig; rateLimitStore?: FastifyRateLimitStoreCtor }) => {
    const { config } = options;
    const cognito =
      config.auth.mode === 'cognito'
        ? [`https://${config.auth.domain}`, `https://cognito-idp.${config.auth.region}.amazonaws.com`]
        : [];
    await app.register(helmet, {
      contentSecurityPolicy: {
        directives: { connectSrc: ["'self'", ...cognito], imgSrc: ["'self'", 'data:'] },
      },
    });
    // An array makes the plugin answer only a matching Origin (no CORS headers at all for any other).
    await app.register(cors, {
      origin: config.corsOrigin ? [config.corsOrigin] : false,
      credentials: false,
      maxAge: 600,
    });
    await app.register(rateLimit, {
      global: false,
      max: config.rateLimitPerMinute,
      timeWindow: '1 minute',
      ...(options.rateLimitStore ? { store: options.rateLimitStore } : {}),
      // A store that cannot count lets the request through (the shared store logs why): an outage of the counters
      // must not lock operators out during an incident.
      skipOnError: true,
    });
  },
  { name: 'ops-security' },
);
