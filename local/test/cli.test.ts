import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/runtime.ts';
import { freePort } from '../src/services/ports.ts';

/**
 * `npm start`'s bad-input paths, through the real launcher in a child process: each must stop with a message that
 * names the culprit, exit non-zero, and leave no DynamoDB Local behind.
 */
const CLI = join(REPO_ROOT, 'local/src/cli.ts');
const TEMPLATE_DIR = join(REPO_ROOT, 'stack/cdk.out');
const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'orderflow-cli-'));
  scratch.push(dir);
  return dir;
}

function launch(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, '--traffic', 'off', ...args], {
      cwd: join(REPO_ROOT, 'local'),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** True when something accepts connections on the port (DynamoDB Local listens on all interfaces). */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createServer().listen(port, '0.0.0.0');
    socket.once('listening', () => socket.close(() => resolve(false)));
    socket.once('error', () => resolve(true));
  });
}

describe('npm start stops on bad input with a message naming it', () => {
  it('says how to install Java when java is not on PATH', async () => {
    // A PATH holding only node: the launcher must find no java.
    const bin = tempDir();
    symlinkSync(process.execPath, join(bin, 'node'));
    const { code, output } = await launch(['--no-build'], { ...process.env, PATH: bin });
    expect(code).toBe(1);
    expect(output).toContain('DynamoDB Local needs Java, but `java -version` failed');
    expect(output).toContain('openjdk-17-jre-headless');
  });

  it('names a busy port and the service it was meant for', async () => {
    const port = await freePort();
    const holder: Server = createServer().listen(port, '127.0.0.1');
    await new Promise((resolve) => holder.once('listening', resolve));
    try {
      const { code, output } = await launch(['--no-build', '--port-dynamodb', String(port)]);
      expect(code).toBe(1);
      expect(output).toContain(`port ${port} for dynamodb is already in use`);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('names a bad --retry-delay', async () => {
    const { code, output } = await launch(['--no-build', '--retry-delay', '0']);
    expect(code).toBe(1);
    expect(output).toContain('--retry-delay must be milliseconds (1..10000), got 0');
  });

  it('names a bad --alarm-email', async () => {
    const { code, output } = await launch(['--no-build', '--alarm-email', 'on-call']);
    expect(code).toBe(1);
    expect(output).toContain('--alarm-email must be an email address, got on-call');
  });

  it('names a bad --poll', async () => {
    const { code, output } = await launch(['--no-build', '--poll', 'fast']);
    expect(code).toBe(1);
    expect(output).toContain('--poll must be eager or aws, got fast');
  });

  it('names a malformed template file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'Orderflow.template.json'), '{"Resources": {');
    const { code, output } = await launch(['--template-dir', dir]);
    expect(code).toBe(1);
    expect(output).toMatch(/Could not start: template \S+Orderflow\.template\.json is not valid JSON/);
  });

  it('names the function whose code asset is missing, after stopping DynamoDB Local it had started', async () => {
    const dir = tempDir();
    cpSync(TEMPLATE_DIR, dir, { recursive: true });
    const template = JSON.parse(readFileSync(join(dir, 'Orderflow.template.json'), 'utf8')) as {
      Resources: Record<string, { Metadata?: Record<string, string> }>;
    };
    const asset = template.Resources.OrderProcessorFunction?.Metadata?.['aws:asset:path'];
    expect(asset).toMatch(/^asset\./);
    rmSync(join(dir, asset as string), { recursive: true });
    const port = await freePort();
    const { code, output } = await launch(['--template-dir', dir, '--port-dynamodb', String(port)]);
    expect(code).toBe(1);
    expect(output).toContain(
      `function OrderProcessorFunction: its code asset ${join(dir, asset as string)} is missing`,
    );
    // The failure comes after DynamoDB Local was up (its progress line is printed); it must be gone again.
    expect(output).toContain('DynamoDB Local up');
    expect(await listening(port)).toBe(false);
  });
});
