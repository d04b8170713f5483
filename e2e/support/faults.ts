import type { Fault } from '@orderflow/local';

/** Fault injection of the local Lambda endpoint: `PUT|DELETE {lambda}/_local/faults/{functionName}`. */

export class FaultInjectionError extends Error {
  override readonly name = 'FaultInjectionError';
}

async function call(lambdaEndpoint: string, functionName: string, init: RequestInit): Promise<void> {
  const url = `${lambdaEndpoint}/_local/faults/${encodeURIComponent(functionName)}`;
  const response = await fetch(url, init);
  if (!response.ok)
    throw new FaultInjectionError(`${init.method} ${url} answered ${response.status}: ${await response.text()}`);
}

export function injectFault(lambdaEndpoint: string, functionName: string, fault: Fault): Promise<void> {
  return call(lambdaEndpoint, functionName, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(fault),
  });
}

export function clearFault(lambdaEndpoint: string, functionName: string): Promise<void> {
  return call(lambdaEndpoint, functionName, { method: 'DELETE' });
}
