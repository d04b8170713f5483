/** Errors that map to a 4xx answer; their message is shown to the caller, so it names the culprit. */
export class OpsApiError extends Error {
  override readonly name: string = 'OpsApiError';
  constructor(
    readonly statusCode: 400 | 401 | 403 | 404 | 409 | 413 | 429,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class NotFoundError extends OpsApiError {
  override readonly name = 'NotFoundError';
  constructor(message: string) {
    super(404, message);
  }
}

export class BadRequestError extends OpsApiError {
  override readonly name = 'BadRequestError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(400, message, options);
  }
}

export class ConflictError extends OpsApiError {
  override readonly name = 'ConflictError';
  constructor(message: string) {
    super(409, message);
  }
}
