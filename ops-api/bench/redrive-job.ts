import type { RedriveJob } from '../src/schemas/index.ts';

/** Starts a redrive-all of the standard DLQ through the API and polls it until it is no longer running. */
export async function redriveAll(
  url: string,
  operator: Record<string, string>,
  viewer: Record<string, string>,
): Promise<RedriveJob> {
  const started = await fetch(`${url}/api/dlqs/standard/redrive`, {
    method: 'POST',
    headers: operator,
    body: JSON.stringify({ all: true, ratePerSecond: 1000 }),
  });
  const { jobId } = (await started.json()) as { jobId: string };
  for (;;) {
    const job = (await (await fetch(`${url}/api/redrives/${jobId}`, { headers: viewer })).json()) as RedriveJob;
    if (job.status !== 'running') return job;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
