import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ManagementTrail } from '../cloudtrail/trail.ts';
import type { PipeDefinition } from './api-definitions.ts';
import type { PipesGate, PipesOperation } from './api-gate.ts';
import { type PipeEmulator, type PipeState, PipeStateConflictError, type PipeStatus } from './pipe-emulator.ts';

/**
 * The Amazon EventBridge Pipes API (REST JSON, service model `pipes` 2015-10-07) over the runtime's pipe emulators:
 * ListPipes, DescribePipe, StartPipe and StopPipe, as the JS SDK, the AWS CLI and boto3 call them
 * (https://docs.aws.amazon.com/eventbridge/latest/pipes-reference/API_Operations.html). Served on the Lambda endpoint's
 * server, dispatched by path (`/v1/pipes...`; `endpoints.pipes` in runtime.json).
 *
 * - StopPipe and StartPipe answer at once with the transitional state (STOPPING, STARTING) while the emulator stops
 *   polling (in-flight invocations settle, checkpoints are flushed) or resumes from its checkpoints; DescribePipe then
 *   shows STOPPED or RUNNING. Stopping a stopped pipe or starting a running one changes nothing and answers its state;
 *   starting a pipe that is still STOPPING is a ConflictException.
 * - Errors are REST JSON errors: the type in `x-amzn-ErrorType`, `{"message": ...}` in the body (NotFoundException
 *   404, ConflictException 409 with resourceId/resourceType, ValidationException 400 with fieldList).
 * - CreatePipe, UpdatePipe, DeletePipe and the tagging operations are authorized, then refused: the pipes are the
 *   template's (docs/ARCHITECTURE.md, "Pipes API").
 */
const LIST_PATH = /^\/v1\/pipes\/?$/;
const PIPE_PATH = /^\/v1\/pipes\/([^/]+)\/?$/;
const ACTION_PATH = /^\/v1\/pipes\/([^/]+)\/(start|stop)\/?$/;
const TAGS_PATH = /^\/tags\/(.+)$/;

/** `PipeName`: 1-64 characters of `[\.\-_A-Za-z0-9]`. */
const PIPE_NAME = /^[.\-_A-Za-z0-9]{1,64}$/;
const PIPE_STATES: readonly PipeState[] = [
  'RUNNING',
  'STOPPED',
  'CREATING',
  'UPDATING',
  'DELETING',
  'STARTING',
  'STOPPING',
  'CREATE_FAILED',
  'UPDATE_FAILED',
  'START_FAILED',
  'STOP_FAILED',
  'DELETE_FAILED',
  'CREATE_ROLLBACK_FAILED',
  'DELETE_ROLLBACK_FAILED',
  'UPDATE_ROLLBACK_FAILED',
];
const REQUESTED_STATES = ['RUNNING', 'STOPPED'] as const;

export interface PipesApiOptions {
  /** Authorizes each request before it is served (local IAM enforcement); absent: every request is served. */
  readonly gate?: PipesGate;
  /** Records StopPipe and StartPipe as CloudTrail management events (cloudtrail/trail.ts). */
  readonly trail?: ManagementTrail;
  /** Errors of a start or stop that runs on after the answer (the pipe shows START_FAILED or STOP_FAILED). */
  readonly onError?: (error: unknown) => void;
}

/** A Pipes API error: `x-amzn-ErrorType`, status and body members. */
class PipesApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly members: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const validation = (field: string, message: string) =>
  new PipesApiError(400, 'ValidationException', `1 validation error detected: ${message}`, {
    fieldList: [{ name: field, message }],
  });

/** REST JSON timestamps are epoch seconds. */
const epochSeconds = (date: Date) => date.getTime() / 1000;

interface Entry {
  readonly emulator: PipeEmulator;
  readonly definition: PipeDefinition;
}

export class PipesApi {
  private readonly pipes = new Map<string, Entry>();

  constructor(private readonly options: PipesApiOptions = {}) {}

  /** Serves a pipe of the runtime (its name is the API's `Name`). */
  add(emulator: PipeEmulator, definition: PipeDefinition): void {
    if (this.pipes.has(definition.Name)) throw new Error(`pipe ${definition.Name} is served twice`);
    this.pipes.set(definition.Name, { emulator, definition });
  }

  /** Whether a request's path is one of this API's. */
  static handles(path: string): boolean {
    return path === '/v1/pipes' || path.startsWith('/v1/pipes/') || TAGS_PATH.test(path);
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://local');
    const path = url.pathname;
    const method = request.method ?? 'GET';
    try {
      // The request has no body for these operations; it is read so the connection stays usable.
      for await (const _ of request);
      const action = ACTION_PATH.exec(path);
      if (action && method === 'POST') {
        const name = this.name(action[1]);
        const operation = action[2] === 'stop' ? 'StopPipe' : 'StartPipe';
        if (this.refused(request, response, operation, name)) return;
        const answer = this.transition(this.entry(name), operation);
        this.options.trail?.record({
          request,
          eventSource: 'pipes.amazonaws.com',
          eventName: operation,
          resources: [{ ResourceType: 'AWS::Pipes::Pipe', ResourceName: name }],
          requestParameters: { name },
        });
        return this.send(response, 200, answer);
      }
      const pipe = PIPE_PATH.exec(path);
      if (pipe) {
        const operation = (
          { GET: 'DescribePipe', POST: 'CreatePipe', PUT: 'UpdatePipe', DELETE: 'DeletePipe' } as const
        )[method as 'GET'];
        if (!operation) throw this.unknown(method, path);
        const name = this.name(pipe[1]);
        if (this.refused(request, response, operation, name)) return;
        if (operation !== 'DescribePipe') throw this.notEmulated(operation);
        return this.send(response, 200, this.describe(this.entry(name)));
      }
      if (LIST_PATH.test(path) && method === 'GET') {
        const query = this.listQuery(url.searchParams);
        if (this.refused(request, response, 'ListPipes', undefined)) return;
        return this.send(response, 200, this.list(query));
      }
      const tags = TAGS_PATH.exec(path);
      if (tags) {
        const operation = ({ GET: 'ListTagsForResource', POST: 'TagResource', DELETE: 'UntagResource' } as const)[
          method as 'GET'
        ];
        if (!operation) throw this.unknown(method, path);
        const name = /:pipe\/([^/]+)$/.exec(decodeURIComponent(tags[1] ?? ''))?.[1];
        if (this.refused(request, response, operation, name)) return;
        throw this.notEmulated(operation);
      }
      throw this.unknown(method, path);
    } catch (error: unknown) {
      if (error instanceof PipesApiError)
        return this.send(response, error.status, { message: error.message, ...error.members }, error.type);
      return this.send(response, 500, { message: (error as Error).message ?? String(error) }, 'InternalException');
    }
  }

  /** The decoded `{Name}` of the path, validated as `PipeName`. */
  private name(raw: string | undefined): string {
    let name: string;
    try {
      name = decodeURIComponent(raw ?? '');
    } catch {
      throw validation('name', `Value '${raw}' at 'name' is not a valid percent-encoded pipe name`);
    }
    if (!PIPE_NAME.test(name))
      throw validation(
        'name',
        `Value '${name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+ and have length between 1 and 64`,
      );
    return name;
  }

  private entry(name: string): Entry {
    const entry = this.pipes.get(name);
    if (!entry) throw new PipesApiError(404, 'NotFoundException', `Pipe ${name} does not exist.`);
    return entry;
  }

  private refused(
    request: IncomingMessage,
    response: ServerResponse,
    operation: PipesOperation,
    name: string | undefined,
  ): boolean {
    const refusal = this.options.gate?.(request, operation, name);
    if (!refusal) return false;
    response.writeHead(refusal.status, refusal.headers);
    response.end(refusal.body);
    return true;
  }

  /**
   * StopPipe / StartPipe: the emulator's stop or start is begun, and the answer is the state it left the pipe in
   * (STOPPING, STARTING; or the settled state when there was nothing to do). The rest of the transition runs on; a
   * failure shows in DescribePipe as STOP_FAILED or START_FAILED with the error as StateReason.
   */
  private transition({ emulator }: Entry, operation: 'StopPipe' | 'StartPipe') {
    if (operation === 'StartPipe' && emulator.currentState === 'STOPPING') {
      const conflict = new PipeStateConflictError(emulator.options.name, 'STOPPING', 'start');
      throw new PipesApiError(409, 'ConflictException', conflict.message, {
        resourceId: emulator.options.name,
        resourceType: 'pipe',
      });
    }
    const pending = operation === 'StopPipe' ? emulator.stop() : emulator.start();
    pending.catch((error: unknown) => this.options.onError?.(error));
    const status = emulator.describe();
    return {
      Arn: status.Arn,
      Name: status.Name,
      DesiredState: status.DesiredState,
      CurrentState: status.CurrentState,
      CreationTime: epochSeconds(status.CreationTime),
      LastModifiedTime: epochSeconds(status.LastModifiedTime),
    };
  }

  private describe({ emulator, definition }: Entry) {
    const status: PipeStatus = emulator.describe();
    const { logicalId: _, Name: __, ...described } = definition;
    return {
      Arn: status.Arn,
      Name: status.Name,
      DesiredState: status.DesiredState,
      CurrentState: status.CurrentState,
      ...(status.StateReason === undefined ? {} : { StateReason: status.StateReason }),
      ...described,
      CreationTime: epochSeconds(status.CreationTime),
      LastModifiedTime: epochSeconds(status.LastModifiedTime),
    };
  }

  private listQuery(query: URLSearchParams) {
    const limitText = query.get('Limit');
    const limit = limitText === null ? 100 : Number(limitText);
    if (!(Number.isInteger(limit) && limit >= 1 && limit <= 100))
      throw validation(
        'limit',
        `Value '${limitText}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100`,
      );
    const desired = query.get('DesiredState');
    if (desired !== null && !(REQUESTED_STATES as readonly string[]).includes(desired))
      throw validation(
        'desiredState',
        `Value '${desired}' at 'desiredState' failed to satisfy constraint: Member must satisfy enum value set: [${REQUESTED_STATES.join(', ')}]`,
      );
    const current = query.get('CurrentState');
    if (current !== null && !(PIPE_STATES as readonly string[]).includes(current))
      throw validation(
        'currentState',
        `Value '${current}' at 'currentState' failed to satisfy constraint: Member must satisfy enum value set: [${PIPE_STATES.join(', ')}]`,
      );
    const namePrefix = query.get('NamePrefix');
    if (namePrefix !== null && !PIPE_NAME.test(namePrefix))
      throw validation(
        'namePrefix',
        `Value '${namePrefix}' at 'namePrefix' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+ and have length between 1 and 64`,
      );
    const token = query.get('NextToken');
    let after: string | undefined;
    if (token !== null) {
      after = Buffer.from(token, 'base64url').toString('utf8');
      if (!token || !PIPE_NAME.test(after))
        throw validation('nextToken', `Value at 'nextToken' is not a token this API returned`);
    }
    return {
      limit,
      after,
      namePrefix,
      desired,
      current,
      sourcePrefix: query.get('SourcePrefix'),
      targetPrefix: query.get('TargetPrefix'),
    };
  }

  /** ListPipes: name order, the filters of the request, pages of `Limit` with an opaque `NextToken`. */
  private list(query: ReturnType<PipesApi['listQuery']>) {
    const matching = [...this.pipes.values()]
      .map(({ emulator, definition }) => ({ status: emulator.describe(), definition }))
      .filter(
        ({ status, definition }) =>
          (query.namePrefix === null || status.Name.startsWith(query.namePrefix)) &&
          (query.desired === null || status.DesiredState === query.desired) &&
          (query.current === null || status.CurrentState === query.current) &&
          (query.sourcePrefix === null || definition.Source.startsWith(query.sourcePrefix)) &&
          (query.targetPrefix === null || definition.Target.startsWith(query.targetPrefix)),
      )
      .sort((a, b) => (a.status.Name < b.status.Name ? -1 : a.status.Name > b.status.Name ? 1 : 0))
      .filter(({ status }) => query.after === undefined || status.Name > query.after);
    const page = matching.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      Pipes: page.map(({ status, definition }) => ({
        Name: status.Name,
        Arn: status.Arn,
        DesiredState: status.DesiredState,
        CurrentState: status.CurrentState,
        ...(status.StateReason === undefined ? {} : { StateReason: status.StateReason }),
        CreationTime: epochSeconds(status.CreationTime),
        LastModifiedTime: epochSeconds(status.LastModifiedTime),
        Source: definition.Source,
        Target: definition.Target,
        ...(definition.Enrichment === undefined ? {} : { Enrichment: definition.Enrichment }),
      })),
      ...(matching.length > page.length && last
        ? { NextToken: Buffer.from(last.status.Name, 'utf8').toString('base64url') }
        : {}),
    };
  }

  private notEmulated(operation: PipesOperation): PipesApiError {
    return new PipesApiError(
      400,
      'ValidationException',
      `${operation} is not emulated: the local runtime's pipes are the template's; change the stack (stack/src) and restart the runtime`,
    );
  }

  private unknown(method: string, path: string): PipesApiError {
    return new PipesApiError(
      404,
      'UnknownOperationException',
      `${method} ${path} is not an operation of the Pipes API served locally`,
    );
  }

  private send(response: ServerResponse, status: number, body: unknown, errorType?: string): void {
    response.writeHead(status, {
      'content-type': 'application/json',
      'x-amzn-requestid': randomUUID(),
      ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
    });
    response.end(JSON.stringify(body));
  }
}
