import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RuntimeInfo, runtimeInfoSchema } from '@orderflow/pipeline/schemas';
import { REPO_ROOT } from './runtime.ts';

/**
 * `npm run fault -w local -- <function> <rate> <throw|timeout|partial|downstream>` or `-- <function> --clear`: fault injection
 * on the running local runtime (found through .orderflow/runtime.json).
 */
const USAGE =
  'Usage: npm run fault -w local -- <FunctionName> <failureRate 0..1> <throw|timeout|partial|downstream>\n       npm run fault -w local -- <FunctionName> --clear';

function runtimeInfo(): RuntimeInfo {
  const file = process.env.ORDERFLOW_RUNTIME_FILE ?? join(REPO_ROOT, '.orderflow/runtime.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`no running local runtime: ${file} is missing (start one with npm start)`);
  }
  return runtimeInfoSchema.parse(JSON.parse(text));
}

async function main(): Promise<void> {
  const [functionName, rate, mode] = process.argv.slice(2);
  if (!functionName || !rate) throw new Error(USAGE);
  const url = `${runtimeInfo().endpoints.lambda}/_local/faults/${encodeURIComponent(functionName)}`;
  const response =
    rate === '--clear'
      ? await fetch(url, { method: 'DELETE' })
      : await fetch(url, { method: 'PUT', body: JSON.stringify({ failureRate: Number(rate), mode: mode ?? 'throw' }) });
  const text = await response.text();
  if (!response.ok) throw new Error(`fault injection failed (${response.status}): ${text}`);
  console.log(rate === '--clear' ? `fault cleared on ${functionName}` : `fault set: ${text}`);
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});
