import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, REPO_ROOT, startLocalRuntime } from '../src/runtime.ts';
import {
  ALL_INTERFACES_WARNING,
  DYNAMODB_LOCAL_CORS_ORIGIN,
  type DynamoDbLocal,
  startDynamoDbLocal,
} from '../src/services/dynamodb-local.ts';

/**
 * What the running runtime exposes beyond this machine: every TCP socket the runtime's process and its children listen
 * on (`ss -ltnp`) must be on the loopback interface, DynamoDB Local's included (it has no option for its address; the
 * runtime's launcher binds it, local/java/LoopbackDynamoDbLocal.java); and DynamoDB Local's CORS allow-list admits no
 * web page's origin.
 */
const templateDir = join(REPO_ROOT, 'stack/cdk.out');
const stateDir = mkdtempSync(join(tmpdir(), 'orderflow-loopback-'));
let runtime: LocalRuntime;

beforeAll(async () => {
  if (!existsSync(join(templateDir, 'Orderflow.template.json'))) {
    const synth = spawnSync('npm', ['run', 'build', '-w', 'stack'], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (synth.status !== 0) throw new Error(`stack synth failed: ${synth.stderr}`);
  }
  runtime = await startLocalRuntime({ stateDir });
}, 120_000);

afterAll(async () => {
  await runtime?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

/** This process and all its descendants, from /proc's parent links. */
function processTree(root: number): Set<number> {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/PID/stat, after the command name in parentheses (which may hold spaces).
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process ended while listing.
    }
  }
  const tree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, parent] of parents)
      if (tree.has(parent) && !tree.has(pid)) {
        tree.add(pid);
        grew = true;
      }
  }
  return tree;
}

interface Listening {
  readonly address: string;
  readonly port: number;
  readonly pid: number;
  readonly command: string;
}

/** The TCP sockets the runtime's processes listen on. */
function runtimeSockets(): Listening[] {
  const tree = processTree(process.pid);
  const out = execFileSync('ss', ['-Hltnp'], { encoding: 'utf8' });
  const sockets: Listening[] = [];
  for (const line of out.split('\n')) {
    const local = line.trim().split(/\s+/)[3];
    if (!local) continue;
    const at = local.lastIndexOf(':');
    for (const [, command, pid] of line.matchAll(/\("([^"]+)",pid=(\d+)/g))
      if (tree.has(Number(pid)))
        sockets.push({
          address: local.slice(0, at),
          port: Number(local.slice(at + 1)),
          pid: Number(pid),
          command: command ?? '',
        });
  }
  return sockets;
}

const isLoopback = (address: string) => /^(127\.\d+\.\d+\.\d+|\[::1\]|\[::ffff:127\.\d+\.\d+\.\d+\])$/.test(address);
const isDynamoDbLocal = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('DynamoDBLocal.jar');
  } catch {
    return false;
  }
};

/** A browser's CORS preflight from `origin`: the Access-Control-Allow-Origin it gets, if any. */
function preflight(port: number, origin: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'content-type,x-amz-target,authorization',
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.headers['access-control-allow-origin'] as string | undefined));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('the runtime listens on the loopback interface only', () => {
  it("every listening socket of the runtime's processes is on 127.0.0.1, DynamoDB Local's included", () => {
    const sockets = runtimeSockets();
    // The endpoints runtime.json names are among them (the listing does see the runtime's servers), and DynamoDB Local.
    for (const endpoint of [runtime.info.endpoints.dynamodb, runtime.info.endpoints.sqs, runtime.info.endpoints.lambda])
      expect(sockets.map((socket) => socket.port)).toContain(Number(new URL(endpoint).port));
    expect(sockets.filter((socket) => isDynamoDbLocal(socket.pid))).toHaveLength(1);
    expect(sockets.filter((socket) => !isLoopback(socket.address))).toEqual([]);
    expect(runtime.warnings).toEqual([]);
  });

  it("DynamoDB Local's CORS allow-list admits no web page", async () => {
    const dynamo = runtimeSockets().filter((socket) => isDynamoDbLocal(socket.pid));
    expect(dynamo).toHaveLength(1);
    const port = dynamo[0]?.port as number;
    // This build sends no Access-Control-Allow-Origin to a preflight with its default `-cors *` either; the explicit
    // allow-list keeps it so should a later build answer `*`.
    const commandLine = readFileSync(`/proc/${dynamo[0]?.pid}/cmdline`, 'utf8').split('\0');
    expect(commandLine[commandLine.indexOf('-cors') + 1]).toBe(DYNAMODB_LOCAL_CORS_ORIGIN);
    for (const origin of ['http://evil.example', 'http://127.0.0.1:8080', 'null'])
      expect(await preflight(port, origin)).toBeUndefined();
  });
});

describe('a Java that cannot run the loopback launcher', () => {
  let dynamo: DynamoDbLocal | undefined;
  afterAll(async () => {
    await dynamo?.stop();
  });

  it('starts DynamoDB Local as it ships, and says that it listens on all interfaces', async () => {
    dynamo = await startDynamoDbLocal({ listenOnAllInterfaces: true });
    expect(dynamo.listensOn).toBe('all interfaces');
    expect(dynamo.warning).toBe(ALL_INTERFACES_WARNING);
    const port = dynamo.port;
    const socket = runtimeSockets().find((listening) => listening.port === port);
    // What the launcher prevents, seen by the same check: the wildcard address.
    expect(socket?.address).toMatch(/^(\*|0\.0\.0\.0|\[::\])$/);
  }, 60_000);
});
