/**
 * autocannon in its own process (forked by `api-load.ts`), so measuring does not steal the API's event loop: receives
 * the autocannon options over IPC, answers the result and exits.
 */
import autocannon from 'autocannon';

process.once('message', async (options: Parameters<typeof autocannon>[0]) => {
  const result = await autocannon(options);
  process.send?.(
    {
      requests: result.requests.total,
      requestsPerSecond: result.requests.average,
      latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
      non2xx: result.non2xx,
      errors: result.errors,
    },
    () => process.disconnect(),
  );
});
