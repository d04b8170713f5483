import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const bin = path.resolve(import.meta.dirname, '../../bin/orderflow-pattern.mjs');

function run(args: string[], input = '') {
  const result = spawnSync(process.execPath, [bin, ...args], { input, encoding: 'utf8', timeout: 20_000 });
  const lines = result.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as unknown);
  return { status: result.status, lines, stderr: result.stderr };
}

function patternFile(pattern: unknown): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'orderflow-pattern-')), 'pattern.json');
  writeFileSync(file, typeof pattern === 'string' ? pattern : JSON.stringify(pattern));
  return file;
}

describe('orderflow-pattern match', () => {
  it('answers one line per input line, never crashing on bad lines', () => {
    const input = [
      JSON.stringify({ pattern: { a: ['x'] }, event: { a: 'x' } }),
      '',
      JSON.stringify({ pattern: { a: ['x'] }, event: { a: 'y' } }),
      'not json',
      JSON.stringify({ event: {} }),
      JSON.stringify({ pattern: { a: [] }, event: {} }),
      '[1,2]',
    ].join('\n');
    const { status, lines } = run(['match'], input);
    expect(status).toBe(0);
    expect(lines).toEqual([
      { match: true },
      { match: false },
      { error: { path: '$', message: expect.stringContaining('line is not valid JSON') } },
      { error: { path: '$.pattern', message: 'missing "pattern"' } },
      { error: { path: '$.a', message: 'Event pattern is not valid. Reason: Empty arrays are not allowed at $.a' } },
      { error: { path: '$', message: 'line must be a JSON object with "pattern" and "event"' } },
    ]);
  });

  it('applies the pipes dialect when asked', () => {
    const line = JSON.stringify({ pattern: { a: [{ wildcard: '*x' }] }, event: { a: 'yx' } });
    expect(run(['match'], line).lines).toEqual([{ match: true }]);
    expect(run(['match', '--dialect', 'pipes'], line).lines).toEqual([
      {
        error: {
          path: '$.a[0].wildcard',
          message:
            'Event pattern is not valid. Reason: wildcard is not supported by EventBridge Pipes filtering at $.a[0].wildcard',
        },
      },
    ]);
  });
});

describe('orderflow-pattern validate', () => {
  it('accepts a valid pattern file', () => {
    expect(run(['validate', patternFile({ source: [{ prefix: 'aws.' }] })])).toMatchObject({
      status: 0,
      lines: [{ valid: true }],
    });
  });

  it('rejects an invalid pattern with the error, exit 1', () => {
    const { status, lines } = run([
      'validate',
      '--dialect',
      'pipes',
      patternFile({ a: [{ 'anything-but': { prefix: 'x' } }] }),
    ]);
    expect(status).toBe(1);
    expect(lines).toEqual([
      {
        error: {
          path: '$.a[0]["anything-but"].prefix',
          message:
            'Event pattern is not valid. Reason: anything-but with prefix is not supported by EventBridge Pipes filtering at $.a[0]["anything-but"].prefix',
        },
      },
    ]);
  });

  it('rejects a file that is not JSON, exit 1', () => {
    const { status, lines } = run(['validate', patternFile('{oops')]);
    expect(status).toBe(1);
    expect(lines).toEqual([{ error: { path: '$', message: expect.stringContaining('JSON') } }]);
  });
});

describe('orderflow-pattern usage', () => {
  it.each([[['--help']], [['match', '--bogus']], [['validate']], [['frobnicate']], [['match', '--dialect', 'sns']]])(
    '%j prints usage and exits 2',
    (args) => {
      const { status, stderr, lines } = run(args);
      expect(status).toBe(2);
      expect(stderr).toContain('Usage:');
      expect(lines).toEqual([]);
    },
  );
});
