import type { FastifyRequest } from 'fastify';
import { OpsApiError } from '../errors.ts';
import { errorResponseSchema } from '../schemas/index.ts';

/** The error answers every authenticated route can give (see the error handler). */
export const ERROR_RESPONSES = {
  400: errorResponseSchema,
  401: errorResponseSchema,
  403: errorResponseSchema,
  404: errorResponseSchema,
  409: errorResponseSchema,
  413: errorResponseSchema,
  429: errorResponseSchema,
  500: errorResponseSchema,
} as const;

/** The authenticated caller (the auth hook has run on every route that uses this). */
export function actorOf(request: FastifyRequest) {
  if (!request.actor) throw new OpsApiError(401, 'missing "Authorization: Bearer <token>" header');
  return request.actor;
}
