import { createWriteStream, mkdirSync, openSync, renameSync, statSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';

/** Where one function log is rotated to `<name>.log.1`: two generations make at most twice this per function. */
export const FUNCTION_LOG_MAX_BYTES = 16 * 1024 * 1024;

interface OpenLog {
  readonly stream: WriteStream;
  bytes: number;
}

/**
 * The functions' logs, `<dir>/<FunctionName>.log`, appended across restarts. A log that would pass `maxBytes` is
 * renamed to `<FunctionName>.log.1` (replacing the previous one) and started afresh, so a runtime left running with
 * demo traffic keeps at most two generations per function instead of filling the disk.
 */
export class FunctionLogs {
  private readonly open = new Map<string, OpenLog>();

  constructor(
    readonly dir: string,
    private readonly maxBytes = FUNCTION_LOG_MAX_BYTES,
  ) {
    if (!(Number.isInteger(maxBytes) && maxBytes > 0))
      throw new RangeError(`maxBytes must be a positive whole number of bytes, got ${maxBytes}`);
    mkdirSync(dir, { recursive: true });
  }

  write(functionName: string, line: string): void {
    const text = `${line}\n`;
    const bytes = Buffer.byteLength(text);
    let log = this.open.get(functionName) ?? this.start(functionName);
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
    const log = { stream: createWriteStream(path, { fd }), bytes: statSync(path).size };
    this.open.set(functionName, log);
    return log;
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
