import {
  DescribePipeCommand,
  type PipesClient,
  StartPipeCommand,
  type StartPipeCommandOutput,
  StopPipeCommand,
  type StopPipeCommandOutput,
} from '@aws-sdk/client-pipes';
import { PIPE_KEYS, type PipeKey } from '@orderflow/pipeline/facts';
import { ConflictError, NotFoundError } from '../errors.ts';
import type { AuditEntry, PipeControlResponse, PipeState } from '../schemas/index.ts';
import type { AuditLog } from './audit-log.ts';
import type { Actor } from './redrive.ts';

/** What a pipe's state read gave: the state, or why there is none. */
export type PipeStateRead =
  | { readonly state: PipeState; readonly error: null }
  | { readonly state: null; readonly error: string };

const describeError = (error: unknown) =>
  `${(error as Error).name ?? 'Error'}: ${(error as Error).message ?? String(error)}`;

function stateOf(answer: {
  DesiredState?: string | undefined;
  CurrentState?: string | undefined;
  StateReason?: string | undefined;
  LastModifiedTime?: Date | undefined;
}): PipeState {
  return {
    desired: answer.DesiredState ?? 'UNKNOWN',
    current: answer.CurrentState ?? 'UNKNOWN',
    reason: answer.StateReason || null,
    lastModified: answer.LastModifiedTime?.toISOString() ?? null,
  };
}

/**
 * Pausing and resuming a pipe (EventBridge Pipes' StopPipe and StartPipe) and reading its state (DescribePipe), for
 * operators: a pipe whose processor keeps failing fills its DLQ; stopped, it reads nothing, and started again it
 * resumes from its checkpoint, so what was written meanwhile is processed then (Pipes API reference, StopPipe and
 * StartPipe; docs/runbooks/pipe-execution-failures.md).
 *
 * Every change is audited as a discard is: an `attempted` entry with the operator's reason before the call (if it
 * cannot be written, nothing is changed), then the outcome: the state Pipes answered (`stopping`, `starting`, or
 * `stopped`/`running` when there was nothing to do) or `failed` with Pipes' error.
 */
export class PipeControl {
  constructor(
    private readonly client: PipesClient,
    private readonly audit: AuditLog,
    private readonly names: Readonly<Record<PipeKey, string>>,
  ) {}

  /** Both pipes' states, read at once; a pipe whose DescribePipe fails has its error instead. */
  async states(): Promise<Record<PipeKey, PipeStateRead>> {
    const reads = await Promise.all(
      PIPE_KEYS.map(async (pipe): Promise<[PipeKey, PipeStateRead]> => {
        try {
          const described = await this.client.send(new DescribePipeCommand({ Name: this.names[pipe] }));
          return [pipe, { state: stateOf(described), error: null }];
        } catch (error: unknown) {
          return [pipe, { state: null, error: describeError(error) }];
        }
      }),
    );
    return Object.fromEntries(reads) as Record<PipeKey, PipeStateRead>;
  }

  stop(pipe: PipeKey, reason: string, actor: Actor): Promise<PipeControlResponse> {
    return this.change(pipe, 'stop', reason, actor);
  }

  start(pipe: PipeKey, reason: string, actor: Actor): Promise<PipeControlResponse> {
    return this.change(pipe, 'start', reason, actor);
  }

  private async change(
    pipe: PipeKey,
    change: 'stop' | 'start',
    reason: string,
    actor: Actor,
  ): Promise<PipeControlResponse> {
    const pipeName = this.names[pipe];
    const entry = (outcome: string, detail: string) =>
      this.audit.append({
        actor: actor.name,
        role: actor.role,
        action: change === 'stop' ? 'pipe-stop' : 'pipe-start',
        pipe,
        messageIds: [],
        outcome,
        detail,
        jobId: null,
      });
    const attempted: AuditEntry = await entry('attempted', reason);
    let answer: StopPipeCommandOutput | StartPipeCommandOutput;
    try {
      answer = await this.client.send(
        change === 'stop' ? new StopPipeCommand({ Name: pipeName }) : new StartPipeCommand({ Name: pipeName }),
      );
    } catch (error: unknown) {
      await entry('failed', `${reason} (EventBridge Pipes answered ${describeError(error)})`).catch(() => undefined);
      const name = (error as Error).name;
      // StartPipe while the pipe is still stopping, and the like: the operator can retry once it has settled.
      if (name === 'ConflictException')
        throw new ConflictError(`pipe ${pipeName} cannot ${change} now: ${(error as Error).message}`);
      if (name === 'NotFoundException')
        throw new NotFoundError(`pipe ${pipeName} does not exist in EventBridge Pipes: ${(error as Error).message}`);
      throw error;
    }
    const state = stateOf(answer);
    // The change was made: the `attempted` entry stands if the outcome cannot be written.
    const outcome = await entry(state.current.toLowerCase(), reason).catch(() => undefined);
    return { pipe, pipeName, state, auditId: (outcome ?? attempted).id };
  }
}
