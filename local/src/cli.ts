import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { parseArgs } from 'node:util';
import { buildApp, configFromRuntimeInfo } from '@orderflow/ops-api';
import { AWS_POLL_INTERVAL_MS } from './pipes/pipe-emulator.ts';
import { type LocalRuntimePorts, REPO_ROOT, startLocalRuntime } from './runtime.ts';
import { JavaMissingError, requireJava } from './services/dynamodb-local.ts';
import { DEFAULT_ON_CALL_EMAIL } from './sns/model.ts';

/**
 * `npm start`: builds what is missing, synthesizes the stack, and runs it on this machine until Ctrl-C.
 * Ports: flags, else ORDERFLOW_PORT_<SERVICE> environment variables, else free ports.
 */
const USAGE = `Usage: npm start -- [options]
  --traffic off|N        demo orders per second (default 2; off disables)
  --data-dir DIR         keep DynamoDB data, SQS messages and pipe checkpoints in DIR across restarts
                         (default: in memory)
  --state-dir DIR        write runtime.json and function logs to DIR (default .orderflow)
  --retry-delay MS       first retry delay of the pipes, doubling per retry up to 10 s (default 500;
                         shorter makes failing batches reach their DLQ sooner in demos and tests)
  --poll eager|aws       eager (default): a shard that just returned records is polled again within 10 ms,
                         backing off to 4 polls a second when quiet; aws: always 4 polls a second, as AWS does
  --iam on|off           on (default): every request to a local endpoint is authorized against the template's
                         IAM policies, each function, pipe and the ops API acting with its role's keys (listed in
                         runtime.json under principals; any other key acts as the administrator); off: nothing is
                         authorized (experiments only)
  --alarm-email ADDRESS  the on-call address the synth subscribes to the alarm topic (default
                         ${DEFAULT_ON_CALL_EMAIL}); its notifications land in <state dir>/outbox/ as files, nothing
                         is sent; with --no-build or --template-dir the template's own subscriptions apply
  --ops-api lambda|in-process
                         lambda (default): as deployed: the template's ops API function (its bundle in cdk.out) runs
                         in the local Lambda runtime behind the template's HTTP API (JWT authorizer, 30 s limit), the
                         console is served as CloudFront serves it, and the tokens are JWTs of a local Cognito issuer;
                         in-process: the Fastify app in this process with two random tokens (debugging the API)
  --no-console           do not build or serve the web console
  --no-build             use stack/cdk.out as it is (skip console build and synth)
  --template-dir DIR     run the synthesized template in DIR instead of stack/cdk.out (implies --no-build)
  --port-dynamodb N  --port-sqs N  --port-lambda N  --port-cloudwatch N  --port-sns N  --port-ops-api N
  --port-console N  --port-cognito N  --port-cloudformation N
                         (or ORDERFLOW_PORT_DYNAMODB, _SQS, _LAMBDA, _CLOUDWATCH, _SNS, _OPS_API, _CONSOLE, _COGNITO,
                         _CLOUDFORMATION)`;

class UsageError extends Error {
  override readonly name = 'UsageError';
}

function parseFlags() {
  try {
    return parseArgs({
      options: {
        traffic: { type: 'string', default: process.env.ORDERFLOW_TRAFFIC ?? '2' },
        'data-dir': { type: 'string' },
        'state-dir': { type: 'string' },
        'retry-delay': { type: 'string' },
        poll: { type: 'string', default: 'eager' },
        iam: { type: 'string', default: 'on' },
        'alarm-email': { type: 'string' },
        'ops-api': { type: 'string', default: 'lambda' },
        'no-console': { type: 'boolean', default: false },
        'no-build': { type: 'boolean', default: false },
        'template-dir': { type: 'string' },
        'port-dynamodb': { type: 'string' },
        'port-sqs': { type: 'string' },
        'port-lambda': { type: 'string' },
        'port-cloudwatch': { type: 'string' },
        'port-sns': { type: 'string' },
        'port-cloudformation': { type: 'string' },
        'port-ops-api': { type: 'string' },
        'port-console': { type: 'string' },
        'port-cognito': { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (error: unknown) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}
const values = parseFlags();

function port(flag: string | undefined, variable: string): number | undefined {
  const text = flag ?? process.env[variable];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 65_535)
    throw new UsageError(`port ${text} (${variable}) is not a port number`);
  return value;
}

function traffic(text: string): 'off' | number {
  if (text === 'off' || text === '0') return 'off';
  const value = Number(text);
  if (!(value > 0 && value <= 1000))
    throw new UsageError(`--traffic must be off or orders per second (0 < N <= 1000), got ${text}`);
  return value;
}

function retryDelay(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!(Number.isInteger(value) && value >= 1 && value <= 10_000))
    throw new UsageError(`--retry-delay must be milliseconds (1..10000), got ${text}`);
  return value;
}

function iamMode(text: string | undefined): 'on' | 'off' {
  if (text === undefined || text === 'on') return 'on';
  if (text === 'off') return 'off';
  throw new UsageError(`--iam must be on or off, got ${text}`);
}

/** `--ops-api`: the deployed path (`lambda`) or the in-process Fastify app. */
function opsApiMode(text: string | undefined): 'lambda' | 'in-process' {
  if (text === undefined || text === 'lambda') return 'lambda';
  if (text === 'in-process') return 'in-process';
  throw new UsageError(`--ops-api must be lambda or in-process, got ${text}`);
}

/** `--alarm-email`: one address, passed to the synth as `-c alarmEmail=`. */
function alarmEmail(text: string | undefined): string {
  if (text === undefined) return DEFAULT_ON_CALL_EMAIL;
  if (!/^[^\s@]+@[^\s@]+$/.test(text)) throw new UsageError(`--alarm-email must be an email address, got ${text}`);
  return text;
}

/** `--poll aws` polls every shard at AWS's base rate, 4 times a second, busy or not. */
function pollCadence(text: string | undefined): { activePollMs?: number } {
  if (text === undefined || text === 'eager') return {};
  if (text === 'aws') return { activePollMs: AWS_POLL_INTERVAL_MS };
  throw new UsageError(`--poll must be eager or aws, got ${text}`);
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8000);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8000);
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`\`${command} ${args.join(' ')}\` failed (exit ${code}):\n${output}`)),
    );
  });
}

const line = (message: string, ms?: number) =>
  console.log(`  ${message}${ms === undefined ? '' : ` \x1b[2m(${Math.round(ms)} ms)\x1b[0m`}`);

async function step(label: string, work: () => Promise<void>): Promise<void> {
  const started = performance.now();
  await work();
  line(label, performance.now() - started);
}

async function main(): Promise<void> {
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const started = performance.now();
  const ports: LocalRuntimePorts = {
    ...optional('dynamodb', port(values['port-dynamodb'], 'ORDERFLOW_PORT_DYNAMODB')),
    ...optional('sqs', port(values['port-sqs'], 'ORDERFLOW_PORT_SQS')),
    ...optional('lambda', port(values['port-lambda'], 'ORDERFLOW_PORT_LAMBDA')),
    ...optional('cloudwatch', port(values['port-cloudwatch'], 'ORDERFLOW_PORT_CLOUDWATCH')),
    ...optional('sns', port(values['port-sns'], 'ORDERFLOW_PORT_SNS')),
    ...optional('cloudformation', port(values['port-cloudformation'], 'ORDERFLOW_PORT_CLOUDFORMATION')),
    ...optional('opsApi', port(values['port-ops-api'], 'ORDERFLOW_PORT_OPS_API')),
    ...optional('console', port(values['port-console'], 'ORDERFLOW_PORT_CONSOLE')),
    ...optional('cognito', port(values['port-cognito'], 'ORDERFLOW_PORT_COGNITO')),
  };
  const opsApiPath = opsApiMode(values['ops-api']);
  const demoTraffic = traffic(values.traffic);
  const onCall = alarmEmail(values['alarm-email']);
  const iam = iamMode(values.iam);
  const pipeTiming = {
    ...pollCadence(values.poll),
    ...optional('retryBaseDelayMs', retryDelay(values['retry-delay'])),
  };
  console.log('Orderflow local runtime');
  requireJava();
  const consolePackage = existsSync(join(REPO_ROOT, 'console/package.json'));
  const consoleDist = join(REPO_ROOT, 'console/dist');
  const withConsole = consolePackage && !values['no-console'];
  const templateDir = values['template-dir'] ? resolvePath(values['template-dir']) : undefined;
  if (!values['no-build'] && !templateDir) {
    // The stack packages console/dist as an asset, so the console is built before the synth.
    if (withConsole && !existsSync(join(consoleDist, 'index.html')))
      await step('console built (npm run build -w console)', () => run('npm', ['run', 'build', '-w', 'console']));
    await step(`stack synthesized with handler bundles, alarms to ${onCall} (npm run build -w stack)`, () =>
      run('npm', ['run', 'build', '-w', 'stack', '--', '-c', `alarmEmail=${onCall}`]),
    );
  }
  const runtime = await startLocalRuntime({
    traffic: demoTraffic,
    ports,
    // As deployed by default; the console then is the template's console asset, as CloudFront serves it.
    opsApi: opsApiPath === 'lambda' ? 'lambda' : { buildApp, configFromRuntimeInfo },
    ...(opsApiPath === 'in-process' && withConsole && existsSync(join(consoleDist, 'index.html'))
      ? { consoleDir: consoleDist }
      : {}),
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
    ...(values['state-dir'] ? { stateDir: resolvePath(values['state-dir']) } : {}),
    pipeTiming,
    iam,
    ...(templateDir ? { templateDir } : {}),
    onProgress: (message, ms) => line(message, ms),
  });
  const ignored = Object.entries(runtime.summary.ignored);
  if (ignored.length > 0)
    line(`not emulated (no local effect): ${ignored.map(([type, count]) => `${type} x${count}`).join(', ')}`);
  for (const skipped of runtime.skippedFunctions)
    line(`function ${skipped.logicalId} not run locally: ${skipped.reason}`);
  for (const statement of runtime.iam.unsupported) line(`IAM statement not evaluated as written: ${statement}`);
  for (const warning of runtime.warnings) line(`Warning: ${warning}`);
  for (const output of runtime.stack.unresolved)
    line(`stack output ${output.key} left out of DescribeStacks (no local value): ${output.reason}`);
  const { info } = runtime;
  const stateDirLabel = values['state-dir'] ?? '.orderflow';
  console.log(`\nReady in ${((performance.now() - started) / 1000).toFixed(1)} s.`);
  if (info.console) console.log(`  Console:   ${info.console}`);
  if (info.opsApi)
    console.log(
      runtime.front
        ? `  Ops API:   ${info.opsApi}/api  (HTTP API → the bundled OpsApiFunction; OpenAPI document: ${info.opsApi}/docs/json, with a token)`
        : `  Ops API:   ${info.opsApi}/api  (in-process; OpenAPI: ${info.opsApi}/docs)`,
    );
  // Tokens go to a terminal only: a CI log or a redirected file is read by others.
  if (process.stdout.isTTY) {
    console.log(`  Operator token: ${info.tokens.operator}`);
    console.log(`  Viewer token:   ${info.tokens.viewer}`);
  } else console.log(`  Tokens: in ${stateDirLabel}/runtime.json (printed only to a terminal)`);
  if (runtime.front) {
    const validity = runtime.front.issuer.userPools[0]?.clients[0]?.accessTokenValiditySeconds ?? 3600;
    console.log(
      `  Tokens: Cognito access tokens of the local issuer (${runtime.front.cognito.endpoint}), valid ${Math.round(validity / 60)} minutes as the app client says; ${stateDirLabel}/runtime.json always holds fresh ones`,
    );
  }
  console.log(
    `  DynamoDB ${info.endpoints.dynamodb} · SQS ${info.endpoints.sqs} · Lambda ${info.endpoints.lambda} · CloudWatch ${info.endpoints.cloudwatch} · SNS ${info.endpoints.sns} · CloudFormation ${info.endpoints.cloudformation} (read-only)`,
  );
  const mailboxes = runtime.sns
    .listSubscriptions({})
    .Subscriptions.filter((s) => s.Protocol.startsWith('email'))
    .map((s) => s.Endpoint);
  console.log(
    `  Email notifications: ${mailboxes.length > 0 ? [...new Set(mailboxes)].join(', ') : 'no email subscription'} → ${stateDirLabel}/outbox/ (GET ${info.endpoints.sns}/_local/outbox)`,
  );
  console.log(
    `  Demo traffic: ${demoTraffic === 'off' ? 'off' : `${demoTraffic} orders/s`} · runtime info: ${stateDirLabel}/runtime.json · function logs: ${stateDirLabel}/logs/`,
  );
  console.log(
    runtime.iam.mode === 'on'
      ? `  IAM enforcement: on, ${runtime.iam.principals.entries.length} roles with their own keys (runtime.json principals); denials: ${stateDirLabel}/denials.ndjson and ${info.iam?.denials}`
      : '  IAM enforcement: OFF (--iam off): every request is served, whoever signs it',
  );
  console.log(
    '  Break a processor: npm run fault -w local -- OrderProcessorFunction 1 throw   (clear: -- OrderProcessorFunction --clear)',
  );
  console.log('Press Ctrl-C to stop.');

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    runtime.stop().then(
      () => {
        console.log('Stopped.');
        process.exit(0);
      },
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

function optional<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}

main().catch((error: unknown) => {
  if (error instanceof JavaMissingError || error instanceof UsageError) console.error(`\n${error.message}`);
  else console.error(`\nCould not start: ${(error as Error).message ?? error}`);
  if (error instanceof UsageError) console.error(USAGE);
  process.exit(1);
});
