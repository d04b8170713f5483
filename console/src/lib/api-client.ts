import type { ErrorResponse } from '@orderflow/ops-api/schemas';

/** An ops API answer other than 2xx; `message` is the API's own message, shown to the operator as is. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type QueryValue = string | number | boolean | undefined | null;

export interface ApiClient {
  get<T>(path: string, query?: Record<string, QueryValue>): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
  delete<T>(path: string, body?: unknown): Promise<T>;
}

export interface ApiClientOptions {
  /** `''` when the console is served by the ops API itself. */
  baseUrl: string;
  getToken(): string | null;
  /** Called on 401, so the session can be dropped and the login shown. */
  onUnauthorized?(): void;
  fetch?: typeof fetch;
}

/** The one typed client of the ops API: bearer auth, JSON in and out, errors carrying the API's message. */
export function createApiClient(options: ApiClientOptions): ApiClient {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));

  async function request<T>(method: string, path: string, body?: unknown, query?: Record<string, QueryValue>) {
    const url = `${options.baseUrl.replace(/\/+$/, '')}${path}${queryString(query)}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = options.getToken();
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await doFetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (error: unknown) {
      throw new ApiError(0, `cannot reach the ops API at ${url}: ${(error as Error).message}`, path, { cause: error });
    }
    const text = await response.text();
    if (!response.ok) {
      if (response.status === 401) options.onUnauthorized?.();
      throw new ApiError(response.status, errorMessage(response, text), path);
    }
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (error: unknown) {
      throw new ApiError(response.status, `the ops API answered ${method} ${path} with a body that is not JSON`, path, {
        cause: error,
      });
    }
  }

  return {
    get: (path, query) => request('GET', path, undefined, query),
    post: (path, body) => request('POST', path, body),
    delete: (path, body) => request('DELETE', path, body),
  };
}

function queryString(query: Record<string, QueryValue> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

function errorMessage(response: Response, text: string): string {
  try {
    const body = JSON.parse(text) as Partial<ErrorResponse>;
    if (typeof body.message === 'string' && body.message) return body.message;
    if (typeof body.error === 'string' && body.error) return body.error;
  } catch {
    // Not JSON (e.g. a proxy's HTML error page): fall through to the status line.
  }
  return `${response.status} ${response.statusText || 'error'} from the ops API`;
}

/** Path segment, encoded. */
export function segment(value: string): string {
  return encodeURIComponent(value);
}
