import type { ConsoleConfig } from '@orderflow/ops-api/schemas';

/**
 * `GET /config.json`, served by the ops API next to the console (and proxied by the Vite dev server). It says where
 * the API is and how to log in, so one console build works locally and in AWS.
 */
export type RuntimeConfig = ConsoleConfig;
export type AuthConfig = ConsoleConfig['auth'];

export class RuntimeConfigError extends Error {
  override readonly name = 'RuntimeConfigError';
}

export function parseRuntimeConfig(value: unknown): RuntimeConfig {
  if (typeof value !== 'object' || value === null) throw new RuntimeConfigError('/config.json: must be a JSON object');
  const { apiBaseUrl, auth } = value as Record<string, unknown>;
  if (typeof apiBaseUrl !== 'string') throw new RuntimeConfigError('/config.json: apiBaseUrl must be a string');
  if (typeof auth !== 'object' || auth === null) throw new RuntimeConfigError('/config.json: auth must be an object');
  const mode = (auth as Record<string, unknown>).mode;
  if (mode === 'local') return { apiBaseUrl, auth: { mode } };
  if (mode === 'cognito') {
    const fields = ['userPoolId', 'clientId', 'domain', 'region'] as const;
    const record = auth as Record<string, unknown>;
    const missing = fields.filter((field) => typeof record[field] !== 'string' || record[field] === '');
    if (missing.length > 0) {
      throw new RuntimeConfigError(`/config.json: auth.${missing.join(', auth.')} must be set for cognito mode`);
    }
    return {
      apiBaseUrl,
      auth: {
        mode,
        userPoolId: String(record.userPoolId),
        clientId: String(record.clientId),
        domain: String(record.domain),
        region: String(record.region),
      },
    };
  }
  throw new RuntimeConfigError(`/config.json: auth.mode must be "local" or "cognito", got ${JSON.stringify(mode)}`);
}

export async function loadRuntimeConfig(fetchImpl: typeof fetch = fetch): Promise<RuntimeConfig> {
  const response = await fetchImpl('/config.json', { headers: { accept: 'application/json' } });
  if (!response.ok) {
    throw new RuntimeConfigError(`/config.json answered ${response.status}; is the ops API running?`);
  }
  return parseRuntimeConfig(await response.json());
}
