import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { OpsApiConfig } from '../config.ts';

/** Helmet headers, CORS for the console's origin only, and a per-client rate limit. */
export default fp(
  async (app: FastifyInstance, options: { config: OpsApiConfig }) => {
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
      max: config.rateLimitPerMinute,
      timeWindow: '1 minute',
      allowList: (request) => request.url === '/api/health',
    });
  },
  { name: 'ops-security' },
);
