import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../src/runtime.ts';
import { REPO_ROOT } from '../src/runtime.ts';
import { startTemplateRuntime } from './helpers.ts';

/**
 * Local endpoints refuse the browser (services/browser-guard.ts): a request a web page can make (with an Origin, from
 * another site, or through DNS rebinding with a foreign Host) is answered 403 before anything acts on it, by every AWS
 * endpoint of the runtime; the browser-facing front doors (HTTP API, console site, issuer) refuse a foreign Host.
 * runtime.json, which holds the operator token and the roles' keys, is readable by its owner only, and the launcher
 * prints the tokens only to a terminal.
 */
let fixture: Awaited<ReturnType<typeof startTemplateRuntime>> | undefined;
let runtime: LocalRuntime;
let stateDir: string;

beforeAll(async () => {
  fixture = await startTemplateRuntime('orderflow-browser-guard-', { opsApi: 'lambda' });
  ({ runtime, stateDir } = fixture);
}, 180_000);

afterAll(async () => {
  await fixture?.stop();
});

/** One raw request (Node's http, which lets a test set Host): status and body. */
function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: Number(target.port),
        path: `${target.pathname}${target.search}`,
        method: options.method ?? 'POST',
        headers: options.headers ?? {},
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body ?? '');
  });
}

const awsEndpoints = () => {
  const { endpoints } = runtime.info;
  return {
    dynamodb: endpoints.dynamodb,
    sqs: endpoints.sqs,
    lambda: endpoints.lambda,
    cloudwatch: endpoints.cloudwatch,
    sns: endpoints.sns ?? '',
    cloudformation: endpoints.cloudformation ?? '',
  };
};

describe('the local endpoints refuse the browser', () => {
  it('answers 403 to a request with a web page’s Origin, at every AWS endpoint, and acts on nothing', async () => {
    for (const [service, endpoint] of Object.entries(awsEndpoints())) {
      const answer = await send(endpoint, {
        headers: { origin: 'https://evil.example', 'content-type': 'text/plain' },
        body: 'Action=ListQueues',
      });
      expect(answer.status, service).toBe(403);
      expect(answer.body, service).toContain("Origin 'https://evil.example' is refused");
    }
    // The fault route took `text/plain` bodies from anyone: a page could break a processor. Refused, and no fault set.
    const fault = await send(
      `${runtime.info.endpoints.lambda}/_local/faults/${runtime.info.resources.pipes.standard.function}`,
      { headers: { origin: 'http://localhost:3000', 'content-type': 'text/plain' }, body: '{"mode":"error"}' },
    );
    expect(fault.status).toBe(403);
    const faults = await send(`${runtime.info.endpoints.lambda}/_local/faults`, { method: 'GET' });
    expect(faults.status).toBe(200);
    expect(JSON.parse(faults.body)).toEqual({});
  });

  it('answers 403 to a page of another site without Origin (Sec-Fetch-Site), and to a foreign Host everywhere', async () => {
    const crossSite = await send(runtime.info.endpoints.cloudwatch, {
      headers: { 'sec-fetch-site': 'cross-site', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=DescribeAlarms&Version=2010-08-01',
    });
    expect(crossSite.status).toBe(403);
    const fronts = [runtime.info.opsApi ?? '', runtime.info.console ?? ''];
    expect(fronts.every(Boolean)).toBe(true);
    for (const endpoint of [...Object.values(awsEndpoints()), ...fronts]) {
      const rebound = await send(endpoint, { method: 'GET', headers: { host: 'attacker.example:80' } });
      expect(rebound.status, endpoint).toBe(403);
      expect(rebound.body, endpoint).toContain("Host 'attacker.example:80' is not a loopback address");
    }
    // A deep link from an alarm mail is a cross-site navigation to the console: served.
    const navigation = await send(runtime.info.console ?? '', {
      method: 'GET',
      headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' },
    });
    expect(navigation.status).toBe(200);
  });

  it('keeps runtime.json readable by its owner only', () => {
    expect(statSync(join(stateDir, 'runtime.json')).mode & 0o777).toBe(0o600);
  });
});

describe('the launcher', () => {
  it('prints the tokens only to a terminal: with its output piped, it says where they are', async () => {
    const state = mkdtempSync(join(tmpdir(), 'orderflow-cli-tokens-'));
    try {
      let token = '';
      const output = await new Promise<string>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', 'src/cli.ts', '--no-build', '--no-console', '--traffic', 'off', '--state-dir', state],
          { cwd: join(REPO_ROOT, 'local'), stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let text = '';
        const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
        child.stdout.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          if (text.includes('Press Ctrl-C to stop.') && token === '') {
            token = (JSON.parse(readFileSync(join(state, 'runtime.json'), 'utf8')) as { tokens: { operator: string } })
              .tokens.operator;
            child.kill('SIGINT');
          }
        });
        child.on('error', reject);
        child.on('exit', () => {
          clearTimeout(timer);
          resolve(text);
        });
      });
      expect(output).toContain('Press Ctrl-C to stop.');
      expect(output).toContain('Tokens: in ');
      expect(token.length).toBeGreaterThan(10);
      expect(output).not.toContain(token);
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  }, 150_000);
});
