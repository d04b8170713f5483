import { HANDLER_ENV } from '@orderflow/pipeline/facts';
import { describe, expect, it } from 'vitest';
import { loadProcessorConfig, ProcessorConfigError } from '../src/config.ts';

const standardEnv = {
  [HANDLER_ENV.pipe]: 'standard',
  [HANDLER_ENV.journalTable]: 'journal',
  [HANDLER_ENV.idempotencyTable]: 'idempotency',
  [HANDLER_ENV.notificationQueueUrl]: 'http://127.0.0.1:1/000000000000/notifications',
};

describe('loadProcessorConfig', () => {
  it('reads the standard processor configuration with the default journal TTL', () => {
    expect(loadProcessorConfig(standardEnv, 'standard')).toEqual({
      pipe: 'standard',
      serviceName: 'orderflow',
      journalTable: 'journal',
      idempotencyTable: 'idempotency',
      journalTtlDays: 14,
      notificationQueueUrl: 'http://127.0.0.1:1/000000000000/notifications',
    });
  });

  it('names the missing variable', () => {
    const { [HANDLER_ENV.journalTable]: _omitted, ...env } = standardEnv;
    const error = (() => {
      try {
        loadProcessorConfig(env, 'standard');
      } catch (thrown: unknown) {
        return thrown;
      }
    })();
    expect(error).toBeInstanceOf(ProcessorConfigError);
    expect(error).toMatchObject({
      message: `environment variable ${HANDLER_ENV.journalTable} is missing or empty`,
      variable: HANDLER_ENV.journalTable,
    });
    expect(() => loadProcessorConfig({ ...standardEnv, [HANDLER_ENV.pipe]: 'premium' }, 'premium')).toThrow(
      /PRIORITY_SHIPMENTS_TABLE_NAME is missing/,
    );
  });

  it('refuses a function wired to the other pipe and a bad TTL', () => {
    expect(() => loadProcessorConfig(standardEnv, 'premium')).toThrow(/this function processes the 'premium' pipe/);
    expect(() => loadProcessorConfig({ ...standardEnv, [HANDLER_ENV.journalTtlDays]: '0.5' }, 'standard')).toThrow(
      /JOURNAL_TTL_DAYS is '0.5'/,
    );
  });
});
