import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FunctionLogs } from '../src/lambda/function-logs.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'orderflow-logs-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
const line = (i: number) => `line ${String(i).padStart(4, '0')}`; // 9 characters + newline = 10 bytes

describe('function logs', () => {
  it('appends each function to its own file', async () => {
    const logs = new FunctionLogs(dir);
    logs.write('A', 'from a');
    logs.write('B', 'from b');
    logs.write('A', 'again a');
    await logs.close();
    expect(lines(join(dir, 'A.log'))).toEqual(['from a', 'again a']);
    expect(lines(join(dir, 'B.log'))).toEqual(['from b']);
  });

  it('rotates a log that would pass its size to .log.1, losing nothing of the last two generations', async () => {
    const logs = new FunctionLogs(dir, { maxBytes: 100 });
    for (let i = 0; i < 25; i++) logs.write('Fn', line(i));
    await logs.close();
    const current = lines(join(dir, 'Fn.log'));
    const previous = lines(join(dir, 'Fn.log.1'));
    // 10 lines of 10 bytes fill a file; the 25 lines made three files, of which the first was replaced.
    expect(previous).toEqual(Array.from({ length: 10 }, (_, i) => line(10 + i)));
    expect(current).toEqual(Array.from({ length: 5 }, (_, i) => line(20 + i)));
    expect(statSync(join(dir, 'Fn.log.1')).size).toBeLessThanOrEqual(100);
  });

  it('counts what a log already holds from an earlier run', async () => {
    writeFileSync(join(dir, 'Fn.log'), `${'x'.repeat(94)}\n`);
    const logs = new FunctionLogs(dir, { maxBytes: 100 });
    logs.write('Fn', line(0));
    await logs.close();
    expect(lines(join(dir, 'Fn.log.1'))).toEqual(['x'.repeat(94)]);
    expect(lines(join(dir, 'Fn.log'))).toEqual([line(0)]);
  });

  it('writes a line longer than the limit whole, into a file of its own', async () => {
    const logs = new FunctionLogs(dir, { maxBytes: 100 });
    logs.write('Fn', line(0));
    logs.write('Fn', 'y'.repeat(300));
    logs.write('Fn', line(1));
    await logs.close();
    expect(lines(join(dir, 'Fn.log.1'))).toEqual(['y'.repeat(300)]);
    expect(lines(join(dir, 'Fn.log'))).toEqual([line(1)]);
  });

  it('starts a new file once the check finds the log deleted or moved by hand', async () => {
    let clock = 0;
    const logs = new FunctionLogs(dir, { checkMs: 50, now: () => clock });
    logs.write('Fn', line(0));
    clock += 50;
    rmSync(join(dir, 'Fn.log'));
    logs.write('Fn', line(1));
    expect(existsSync(join(dir, 'Fn.log'))).toBe(true);
    clock += 50;
    renameSync(join(dir, 'Fn.log'), join(dir, 'Fn.old'));
    logs.write('Fn', line(2));
    await logs.close();
    expect(lines(join(dir, 'Fn.old'))).toEqual([line(1)]);
    expect(lines(join(dir, 'Fn.log'))).toEqual([line(2)]);
  });

  it('checks no sooner than checkMs: until then, lines go to the file it has open, even if moved', async () => {
    let clock = 0;
    const logs = new FunctionLogs(dir, { checkMs: 50, now: () => clock });
    logs.write('Fn', line(0));
    renameSync(join(dir, 'Fn.log'), join(dir, 'Fn.old'));
    clock += 49;
    logs.write('Fn', line(1));
    expect(existsSync(join(dir, 'Fn.log'))).toBe(false);
    clock += 1;
    logs.write('Fn', line(2));
    await logs.close();
    expect(lines(join(dir, 'Fn.old'))).toEqual([line(0), line(1)]);
    expect(lines(join(dir, 'Fn.log'))).toEqual([line(2)]);
  });

  it('refuses options that are not sizes and durations', () => {
    expect(() => new FunctionLogs(dir, { maxBytes: 0 })).toThrow(
      'maxBytes must be a positive whole number of bytes, got 0',
    );
    expect(() => new FunctionLogs(dir, { checkMs: Number.NaN })).toThrow(
      'checkMs must be a number of milliseconds, got NaN',
    );
  });
});
