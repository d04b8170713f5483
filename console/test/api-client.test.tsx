import { screen } from '@testing-library/react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlarmsPage } from '../src/features/alarms/components/alarms-page.tsx';
import { ApiError, createApiClient } from '../src/lib/api-client.ts';
import { FakeOpsApi } from './support/fake-ops-api.ts';
import { renderView } from './support/render.tsx';

let api: FakeOpsApi;
beforeAll(async () => {
  api = await new FakeOpsApi().start();
});
afterAll(() => api.stop());

describe('the API client', () => {
  it('sends the bearer token and query, and parses JSON', async () => {
    api.on('GET /api/echo', (request) => ({
      body: { auth: request.headers.authorization, q: request.query.get('q') },
    }));
    const client = createApiClient({ baseUrl: api.baseUrl, getToken: () => 'tok-1' });
    expect(await client.get('/api/echo', { q: 'a b', empty: '', none: undefined })).toEqual({
      auth: 'Bearer tok-1',
      q: 'a b',
    });
    expect(api.requests.at(-1)?.query.toString()).toBe('q=a+b');
  });

  it("throws the API's own message for a 4xx, and the status line when the body is not JSON", async () => {
    api.on('GET /api/bad', {
      status: 400,
      body: { statusCode: 400, error: 'Bad Request', message: 'limit must be <= 100' },
    });
    api.on('GET /api/proxy', { status: 502, raw: '<html>bad gateway</html>' });
    const client = createApiClient({ baseUrl: api.baseUrl, getToken: () => null });
    await expect(client.get('/api/bad')).rejects.toMatchObject({
      name: 'ApiError',
      status: 400,
      message: 'limit must be <= 100',
    });
    await expect(client.get('/api/proxy')).rejects.toThrow(/^502 .* from the ops API$/);
  });

  it('reports an unreachable API by address, and calls onUnauthorized on 401', async () => {
    const unreachable = createApiClient({ baseUrl: 'http://127.0.0.1:9', getToken: () => null });
    await expect(unreachable.get('/api/dlqs')).rejects.toThrow(
      'cannot reach the ops API at http://127.0.0.1:9/api/dlqs',
    );
    let dropped = 0;
    api.on('GET /api/secret', { status: 401, body: { message: 'missing bearer token' } });
    const client = createApiClient({ baseUrl: api.baseUrl, getToken: () => null, onUnauthorized: () => dropped++ });
    const error = await client.get('/api/secret').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(dropped).toBe(1);
  });

  it('shows an API error message in the view, with a retry', async () => {
    api.on('GET /api/alarms', { status: 503, body: { message: 'CloudWatch DescribeAlarms failed: throttled' } });
    renderView(<AlarmsPage />, { path: '/alarms', url: '/alarms', baseUrl: api.baseUrl });
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Could not load alarms. CloudWatch DescribeAlarms failed: throttled');
    expect(screen.getByRole('button', { name: 'Retry' })).toBeEnabled();
  });

  it('shows the empty state when there is nothing to show', async () => {
    api.on('GET /api/alarms', { body: { alarms: [] } });
    renderView(<AlarmsPage />, { path: '/alarms', url: '/alarms', baseUrl: api.baseUrl });
    expect(await screen.findByText('No alarms.')).toBeInTheDocument();
  });
});
