import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../src/runtime.ts';
import { LOCAL_CREDENTIALS } from '../src/services/dynamodb-local.ts';

/**
 * The clients this project did not write, as tests drive them: Debian's AWS CLI (`/usr/bin/aws`, 2.9) and boto3 1.26
 * (`/usr/bin/python3`), with the administrator's keys and nothing read from the user's own AWS configuration.
 */
const execFileAsync = promisify(execFile);

/** The environment of a CLI or boto3 call: region us-east-1, the local administrator's keys, no config files. */
export function awsClientEnv(home: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: join(home, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  };
}

/** One boto3 call: its answer without ResponseMetadata, or `{ error, status }` for an error the service answered. */
export async function boto3Call(
  env: Record<string, string>,
  service: string,
  endpoint: string,
  operation: string,
  params: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const script = `
import json, sys, boto3, botocore
client = boto3.client(sys.argv[1], endpoint_url=sys.argv[2], region_name='us-east-1')
try:
    out = getattr(client, sys.argv[3])(**json.loads(sys.argv[4]))
    out.pop('ResponseMetadata', None)
    print(json.dumps(out, default=str))
except botocore.exceptions.ClientError as e:
    print(json.dumps({'error': e.response['Error'], 'status': e.response['ResponseMetadata']['HTTPStatusCode']}))
`;
  const { stdout } = await execFileAsync(
    '/usr/bin/python3',
    ['-c', script, service, endpoint, operation, JSON.stringify(params)],
    { env },
  );
  return JSON.parse(stdout) as Record<string, unknown>;
}

/** The environment of a shell running documented commands: {@link awsClientEnv} with Debian's CLI first on PATH. */
export function documentedCommandsEnv(home: string): Record<string, string> {
  return { ...awsClientEnv(home), PATH: '/usr/bin:/bin' };
}

/**
 * Runs the README's `sh` block whose first line starts with `start` as written (`bash -euo pipefail`, from `cwd`,
 * where `.orderflow/runtime.json` is the runtime's), and answers what it printed. The block may sit in a list item:
 * its lines are dedented by the fence's indent.
 */
export async function runReadmeBlock(start: string, cwd: string): Promise<string> {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const fences = [...readme.matchAll(/\n( *)```sh\n([\s\S]*?)\n *```/g)];
  const fence = fences.find((match) => (match[2] ?? '').trimStart().startsWith(start));
  if (!fence) throw new Error(`README.md has no sh block starting ${start}`);
  const indent = fence[1] ?? '';
  const block = (fence[2] ?? '')
    .split('\n')
    .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
    .join('\n');
  const { stdout } = await execFileAsync('bash', ['--norc', '--noprofile', '-euo', 'pipefail', '-c', block], {
    cwd,
    env: documentedCommandsEnv(cwd),
  });
  return stdout;
}
