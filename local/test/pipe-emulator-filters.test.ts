import { describe, expect, it } from 'vitest';
import { CheckpointStore } from '../src/pipes/checkpoints.ts';
import { PipeEmulator, type PipeEmulatorOptions, PipeFilterError } from '../src/pipes/pipe-emulator.ts';
import type { StreamsApi } from '../src/pipes/streams-api.ts';

// The constructor compiles the filters; nothing here polls, so no stream is needed.
function emulatorWith(filters: PipeEmulatorOptions['filters']): PipeEmulator {
  return new PipeEmulator({
    name: 'orderflow-premium',
    streamArn: 'arn:aws:dynamodb:us-east-1:000000000000:table/Orders/stream/x',
    streams: {} as StreamsApi,
    settings: {
      batchSize: 5,
      maximumBatchingWindowInSeconds: 0,
      maximumRetryAttempts: 1,
      maximumRecordAgeInSeconds: -1,
      onPartialBatchItemFailure: 'AUTOMATIC_BISECT',
      parallelizationFactor: 1,
      startingPosition: 'TRIM_HORIZON',
    },
    filters,
    target: async () => ({ kind: 'response', payload: null }),
    checkpoints: new CheckpointStore(undefined),
    publish: () => undefined,
    region: 'us-east-1',
    account: '000000000000',
  });
}

describe('pipe emulator filters', () => {
  it('refuses a filter on a field the Pipes poller adds, naming the pipe, the filter and the field', () => {
    const filters = [{ dynamodb: { NewImage: { s: { S: ['x'] } } } }, { eventName: ['MODIFY'] }];
    expect(() => emulatorWith(filters)).toThrow(PipeFilterError);
    expect(() => emulatorWith(filters)).toThrow(
      /^pipe orderflow-premium: filter 1 cannot run on EventBridge Pipes: .*eventName cannot be used in an EventBridge Pipes filter: the Pipes poller adds it to each record.* at \$\.eventName$/,
    );
  });

  it('refuses an operator Pipes lacks, and accepts what Pipes can evaluate', () => {
    expect(() => emulatorWith([{ a: [{ wildcard: '*x' }] }])).toThrow(
      /pipe orderflow-premium: filter 0 .*wildcard is not supported by EventBridge Pipes filtering/,
    );
    const accepted = emulatorWith([{ dynamodb: { OldImage: { s: { S: ['pending'] } } } }]);
    expect(accepted.arn).toBe('arn:aws:pipes:us-east-1:000000000000:pipe/orderflow-premium');
  });
});
