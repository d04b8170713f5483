import { pipeFilterOf } from '@orderflow/pipeline/engine';
import { PIPE_KEYS, PIPES } from '@orderflow/pipeline/facts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { type PipeSummary, pipesResponseSchema } from '../schemas/index.ts';
import { ERROR_RESPONSES } from './errors.ts';

const pipes: FastifyPluginAsyncZod = async (app) => {
  const { config } = app.ops;
  const summaries: PipeSummary[] = PIPE_KEYS.map((key) => {
    const pipe = PIPES[key];
    return {
      key,
      title: pipe.title,
      description: pipe.description,
      pipeName: config.pipes[key].pipeName,
      functionName: config.pipes[key].functionName,
      dlqUrl: config.pipes[key].dlqUrl,
      rule: {
        pattern: pipe.rule.pattern,
        clauses: pipe.rule.clauses.map((clause) => ({ ...clause, pattern: clause.pattern })),
      },
      pipeFilter: pipeFilterOf(key),
      source: { ...pipe.source, onPartialBatchItemFailure: pipe.source.onPartialBatchItemFailure ?? null },
    };
  });
  app.get(
    '/pipes',
    {
      schema: {
        summary: 'Both pipes: rule, derived pipe filter, source settings, function and DLQ',
        response: { 200: pipesResponseSchema, ...ERROR_RESPONSES },
      },
    },
    async () => ({ pipes: summaries }),
  );
};
export default pipes;
