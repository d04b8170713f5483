import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { OpsApiError } from '../errors.ts';

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
};

interface Issue {
  readonly keyword?: string;
  readonly instancePath: string;
  readonly message?: string;
  readonly params?: { readonly errors?: unknown };
}

/**
 * A union's own issue says only "Invalid input"; the issues of the alternative that came closest (fewest issues)
 * name the field that is wrong, e.g. `body.eventName` of the filter lab's order form.
 */
function closestBranch(issue: Issue): Issue[] {
  const branches = issue.params?.errors;
  if (issue.keyword !== 'invalid_union' || !Array.isArray(branches) || branches.length === 0) return [issue];
  const closest = (branches as { path: PropertyKey[]; message: string }[][]).reduce((best, branch) =>
    branch.length < best.length ? branch : best,
  );
  return closest.map((sub) => ({
    instancePath: [issue.instancePath.replace(/\/$/, ''), ...sub.path.map(String)].join('/'),
    message: sub.message,
  }));
}

/**
 * One error handler: 4xx answers carry a message naming the problem; 5xx answers carry only the request id (the
 * details go to the log), so no stack trace, AWS error or resource name leaks to callers.
 */
export default fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      let status = 500;
      let message = `internal error; the ops API log has the details (request ${request.id})`;
      if (hasZodFastifySchemaValidationErrors(error)) {
        status = 400;
        message = error.validation
          .flatMap((issue) => closestBranch(issue))
          .map((issue) => {
            const path = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
            const where = `${error.validationContext ?? 'request'}${path ? `.${path}` : ''}`;
            return `${where}: ${issue.message}`;
          })
          .join('; ');
      } else if (error instanceof OpsApiError) {
        status = error.statusCode;
        message = error.message;
      } else if (
        !isResponseSerializationError(error) &&
        error.statusCode &&
        error.statusCode >= 400 &&
        error.statusCode < 500
      ) {
        // Fastify's own client errors: malformed JSON, body too large, unsupported media type, rate limit.
        status = error.statusCode;
        message =
          status === 415
            ? `content-type ${JSON.stringify(request.headers['content-type'] ?? '')} is not supported; send a JSON body with content-type: application/json`
            : error.message;
      }
      if (status >= 500) request.log.error({ err: error }, 'request failed');
      else request.log.info({ status, message }, 'request rejected');
      return reply.code(status).send({ statusCode: status, error: REASONS[status] ?? 'Error', message });
    });
    app.setNotFoundHandler((request, reply) =>
      reply.code(404).send({
        statusCode: 404,
        error: 'Not Found',
        message: `no route ${request.method} ${request.url.split('?')[0]}`,
      }),
    );
  },
  { name: 'ops-error-handler' },
);
