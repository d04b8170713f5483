import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type RuntimeInfo, runtimeInfoSchema } from '@orderflow/pipeline/schemas';
import { REPO_ROOT } from './paths.ts';

const CLI = join(REPO_ROOT, 'local/src/cli.ts');
/** The launcher prints this once everything is up (local/src/cli.ts). */
const READY_LINE = 'Press Ctrl-C to stop.';
/** Lines the launcher prints for errors the runtime survives (a failed poll, a failed write): `[orderflow-local] …`. */
const SURVIVED_ERROR = /^\[orderflow-local\] /;

export interface RuntimeProcessOptions {
  readonly dataDir: string;
  readonly stateDir: string;
  /** Extra launcher flags, e.g. `['--retry-delay', '100']`. */
  readonly flags?: readonly string[];
  /** Called for each error line the runtime prints and survives. */
  readonly onSurvivedError?: (line: string) => void;
}

/**
 * The local runtime as an operator runs it: `npm start`'s launcher in its own process (no build, no console, no demo
 * traffic), so that a test can kill it outright. Its endpoints come from the runtime.json it writes.
 */
export class RuntimeProcess {
  private constructor(
    readonly info: RuntimeInfo,
    private readonly child: ChildProcess,
    private readonly exited: Promise<NodeJS.Signals | number | null>,
  ) {}

  static async launch(options: RuntimeProcessOptions): Promise<RuntimeProcess> {
    const runtimeFile = join(options.stateDir, 'runtime.json');
    rmSync(runtimeFile, { force: true });
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        CLI,
        '--no-build',
        '--no-console',
        '--traffic',
        'off',
        '--data-dir',
        options.dataDir,
        '--state-dir',
        options.stateDir,
        ...(options.flags ?? []),
      ],
      { cwd: join(REPO_ROOT, 'local'), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
      child.once('exit', (code, signal) => resolve(signal ?? code)),
    );
    let output = '';
    let ready: () => void = () => undefined;
    const isReady = new Promise<void>((resolve) => {
      ready = resolve;
    });
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output = (output + chunk).slice(-20_000);
      if (output.includes(READY_LINE)) ready();
    });
    let partial = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      output = (output + chunk).slice(-20_000);
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (SURVIVED_ERROR.test(line)) options.onSurvivedError?.(line);
    });
    const outcome = await Promise.race([isReady.then(() => 'ready' as const), exited]);
    if (outcome !== 'ready')
      throw new Error(`the local runtime exited (${String(outcome)}) before it was ready:\n${output}`);
    const info = runtimeInfoSchema.parse(JSON.parse(readFileSync(runtimeFile, 'utf8')));
    return new RuntimeProcess(info, child, exited);
  }

  /** SIGKILL: no clean stop, no draining, no checkpoint flush; whatever was in flight dies with the process. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Ctrl-C: the launcher stops everything cleanly. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGINT');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    await this.exited;
    clearTimeout(timer);
  }
}
