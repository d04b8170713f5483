import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Where a pipe stands in one shard: everything up to `sequenceNumber` is done; `finished` once a closed shard is drained. */
export interface ShardCheckpoint {
  sequenceNumber?: string;
  finished?: boolean;
}

export class CheckpointFileError extends Error {
  override readonly name = 'CheckpointFileError';
}

/**
 * A pipe's checkpoints per stream and shard, persisted to a JSON file so that a restart resumes after the last
 * record that was fully handled (at-least-once: what was in flight is delivered again). Keyed by stream ARN, so a
 * fresh in-memory table (a new stream) never inherits an old stream's positions.
 */
export class CheckpointStore {
  private readonly state: Record<string, Record<string, ShardCheckpoint>>;
  private timer: NodeJS.Timeout | undefined;
  private readonly flushDelayMs: number;

  constructor(
    readonly file: string | undefined,
    options: {
      flushDelayMs?: number;
      /**
       * The stream ARN a key read from the file stands for now: a data dir of an older runtime keyed its checkpoints
       * by DynamoDB Local's form of the ARN (region `ddblocal`), which names the same stream (same table and label)
       * as its AWS shape the pipe now reads, so the pipe resumes where it was. Written back with the new keys.
       */
      streamOf?: (key: string) => string;
    } = {},
  ) {
    this.flushDelayMs = options.flushDelayMs ?? 200;
    const loaded = file ? CheckpointStore.load(file) : {};
    const { streamOf } = options;
    if (!streamOf) this.state = loaded;
    else {
      this.state = {};
      // A key already in its current form wins over an older key for the same stream.
      for (const [key, shards] of Object.entries(loaded)) if (streamOf(key) !== key) this.state[streamOf(key)] = shards;
      for (const [key, shards] of Object.entries(loaded)) if (streamOf(key) === key) this.state[key] = shards;
    }
  }

  private static load(file: string): Record<string, Record<string, ShardCheckpoint>> {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return {};
    }
    try {
      return JSON.parse(text) as Record<string, Record<string, ShardCheckpoint>>;
    } catch (error: unknown) {
      throw new CheckpointFileError(
        `checkpoint file ${file} is not valid JSON; delete it to start from the pipe's StartingPosition`,
        {
          cause: error,
        },
      );
    }
  }

  get(streamArn: string, shardId: string): ShardCheckpoint | undefined {
    return this.state[streamArn]?.[shardId];
  }

  hasStream(streamArn: string): boolean {
    return this.state[streamArn] !== undefined;
  }

  set(streamArn: string, shardId: string, checkpoint: ShardCheckpoint): void {
    this.state[streamArn] ??= {};
    this.state[streamArn][shardId] = checkpoint;
    if (this.file && !this.timer) this.timer = setTimeout(() => this.flush(), this.flushDelayMs);
  }

  /** Writes atomically (temp file + rename) so a crash never leaves half a file. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.file) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const temporary = `${this.file}.tmp`;
    writeFileSync(temporary, JSON.stringify(this.state));
    renameSync(temporary, this.file);
  }
}
