import { createWriteStream, fstatSync, mkdirSync, openSync, renameSync, statSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';

/** Where one function log is rotated to `<name>.log.1`: two generations make at most twice this per function. */
export const FUNCTION_LOG_MAX_BYTES = 16 * 1024 * 1024;

/** How often a log checks that its file is still where it was (deleted or moved by hand: it starts a new one). */
export const FUNCTION_LOG_CHECK_MS = 1000;

interface OpenLog {
  readonly stream: WriteStream;
  readonly fd: number;
  bytes: number;
  checkedAt: number;
}

export interface FunctionLogsOptions {
  /** Default FUNCTION_LOG_MAX_BYTES. */
  maxBytes?: number;
  /** Default FUNCTION_LOG_CHECK_MS. */
  checkMs?: number;
  /** The clock the checks are timed by (ms). Default `Date.now`; tests pass their own. */
  now?: () => number;
}

/**
 * The functions' logs, `<dir>/<FunctionName>.log`, appended across restarts. A log that would pass `maxBytes` is
 * renamed to `<FunctionName>.log.1` (replacing the previous one) and started afresh, so a runtime left running with
 * demo traffic keeps at most two generations per function instead of filling the disk. A log whose file was deleted
 * or moved by hand starts a new one within `checkMs`.
 */
export class FunctionLogs {
  private readonly open = new Map<string, OpenLog>();
  private readonly maxBytes: number;
  private readonly checkMs: number;
  private readonly now: () => number;

  constructor(
    readonly dir: string,
    { maxBytes = FUNCTION_LOG_MAX_BYTES, checkMs = FUNCTION_LOG_CHECK_MS, now = Date.now }: FunctionLogsOptions = {},
  ) {
    if (!(Number.isInteger(maxBytes) && maxBytes > 0))
      throw new RangeError(`maxBytes must be a positive whole number of bytes, got ${maxBytes}`);
    if (!(Number.isFinite(checkMs) && checkMs >= 0))
      throw new RangeError(`checkMs must be a number of milliseconds, got ${checkMs}`);
    this.maxBytes = maxBytes;
    this.checkMs = checkMs;
    this.now = now;
    mkdirSync(dir, { recursive: true });
  }

  write(functionName: string, line: string): void {
    const text = `${line}\n`;
    const bytes = Buffer.byteLength(text);
    let log = this.open.get(functionName) ?? this.start(functionName);
    const now = this.now();
    if (now - log.checkedAt >= this.checkMs) {
      log.checkedAt = now;
      if (!this.inPlace(functionName, log)) {
        log.stream.end();
        log = this.start(functionName);
      }
    }
    if (log.bytes > 0 && log.bytes + bytes > this.maxBytes) log = this.rotate(functionName, log);
    log.stream.write(text);
    log.bytes += bytes;
  }

  /** Ends every log, resolving once what was written is on disk. */
  async close(): Promise<void> {
    const logs = [...this.open.values()];
    this.open.clear();
    await Promise.all(logs.map((log) => new Promise<void>((done) => log.stream.end(done))));
  }

  private path(functionName: string): string {
    return join(this.dir, `${functionName}.log`);
  }

  private start(functionName: string): OpenLog {
    const path = this.path(functionName);
    // The descriptor is opened here, not by the stream later: a rotation must rename the file this stream writes to.
    const fd = openSync(path, 'a');
    const log = { stream: createWriteStream(path, { fd }), fd, bytes: fstatSync(fd).size, checkedAt: this.now() };
    this.open.set(functionName, log);
    return log;
  }

  /** Whether the log's path still names the file its descriptor writes to. */
  private inPlace(functionName: string, log: OpenLog): boolean {
    try {
      return statSync(this.path(functionName)).ino === fstatSync(log.fd).ino;
    } catch (error: unknown) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  private rotate(functionName: string, log: OpenLog): OpenLog {
    // What the old stream still has buffered goes to the renamed file, whose descriptor it holds.
    log.stream.end();
    const path = this.path(functionName);
    try {
      renameSync(path, `${path}.1`);
    } catch (error: unknown) {
      // Moved or deleted by hand: start a new file all the same.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    return this.start(functionName);
  }
}
