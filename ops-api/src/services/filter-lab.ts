import { marshall } from '@aws-sdk/util-dynamodb';
import { type CompiledPattern, compilePattern, type Guard, guardFor, pipeFilterOf } from '@orderflow/pipeline/engine';
import { ORDERS_PARTITION_KEY, PIPE_KEYS, PIPES, type PipeKey, type StreamEventName } from '@orderflow/pipeline/facts';
import type { StreamRecord } from '@orderflow/pipeline/schemas';
import { BadRequestError } from '../errors.ts';
import type { FilterExplanation } from '../schemas/index.ts';

const LAB_STREAM_ARN = 'arn:aws:dynamodb:us-east-1:000000000000:table/Orders/stream/filter-lab';

/**
 * Evaluates both pipes on a record the way AWS would: the derived pipe filter on the raw record (Pipes dialect, `N`
 * values are strings), and the full rule (the processor guard) on the typed view, naming the failing clause.
 */
export class FilterLab {
  private readonly pipes: Record<PipeKey, { guard: Guard; pipeFilter: CompiledPattern }>;

  constructor() {
    this.pipes = Object.fromEntries(
      PIPE_KEYS.map((key) => [
        key,
        { guard: guardFor(PIPES[key].rule), pipeFilter: compilePattern(pipeFilterOf(key), 'pipes') },
      ]),
    ) as Record<PipeKey, { guard: Guard; pipeFilter: CompiledPattern }>;
  }

  /** Whether the pipe itself would deliver the record to its processor. */
  pipeFilterMatches(pipe: PipeKey, record: unknown): boolean {
    return this.pipes[pipe].pipeFilter.matches(record);
  }

  explain(pipe: PipeKey, record: unknown): FilterExplanation {
    const { guard, pipeFilter } = this.pipes[pipe];
    const filter = pipeFilter.explain(record);
    const verdict = guard.check(record);
    const filterText = filter.matched
      ? 'The pipe filter matches, so the pipe delivers the record.'
      : `The pipe filter drops the record: ${filter.failures.map((failure) => failure.message).join('; ')}.`;
    const ruleText =
      verdict.verdict === 'pass'
        ? 'The rule matches: the processor applies the order.'
        : `The rule rejects it at clause '${verdict.clause}' (${verdict.clauseDescription}): ${verdict.explanation}.`;
    const gap =
      filter.matched && verdict.verdict === 'reject'
        ? ' The pipe filter cannot express this clause, so the processor guard acknowledges the record without effects.'
        : '';
    return {
      rule: verdict.verdict === 'pass',
      pipeFilter: filter.matched,
      failingClause:
        verdict.verdict === 'reject' ? { id: verdict.clause, description: verdict.clauseDescription } : null,
      explanation: `${filterText} ${ruleText}${gap}`,
    };
  }

  explainAll(record: unknown): Record<PipeKey, FilterExplanation> {
    return Object.fromEntries(PIPE_KEYS.map((key) => [key, this.explain(key, record)])) as Record<
      PipeKey,
      FilterExplanation
    >;
  }
}

/**
 * The stream record DynamoDB would emit for a change, from plain order JSON (numbers become `{"N": "150"}`, exactly
 * what makes numeric pipe filters useless: docs/AWS-FACTS.md, fact 1).
 */
export function streamRecordFor(change: {
  eventName: StreamEventName;
  newImage: Record<string, unknown> | null;
  oldImage: Record<string, unknown> | null;
}): StreamRecord {
  if (change.eventName !== 'REMOVE' && !change.newImage) {
    throw new BadRequestError(`newImage: a ${change.eventName} record needs the new order (got null)`);
  }
  if (change.eventName !== 'INSERT' && !change.oldImage) {
    throw new BadRequestError(`oldImage: a ${change.eventName} record needs the old order (got null)`);
  }
  const image = change.newImage ?? change.oldImage ?? {};
  const orderId = image[ORDERS_PARTITION_KEY];
  if (typeof orderId !== 'string' || orderId === '') {
    throw new BadRequestError(`${ORDERS_PARTITION_KEY}: the order needs a non-empty string ${ORDERS_PARTITION_KEY}`);
  }
  const toImage = (value: Record<string, unknown>) => {
    try {
      return marshall(value, { removeUndefinedValues: true }) as StreamRecord['dynamodb']['Keys'];
    } catch (error: unknown) {
      throw new BadRequestError(`the order cannot be stored in DynamoDB: ${(error as Error).message}`, {
        cause: error,
      });
    }
  };
  const newImage = change.newImage ? toImage(change.newImage) : undefined;
  const oldImage = change.oldImage ? toImage(change.oldImage) : undefined;
  return {
    eventID: 'filter-lab',
    eventName: change.eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    eventSourceARN: LAB_STREAM_ARN,
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
      Keys: { [ORDERS_PARTITION_KEY]: { S: orderId } },
      ...(newImage ? { NewImage: newImage } : {}),
      ...(oldImage ? { OldImage: oldImage } : {}),
      SequenceNumber: '100000000000000000001',
      SizeBytes: JSON.stringify([newImage, oldImage]).length,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}
