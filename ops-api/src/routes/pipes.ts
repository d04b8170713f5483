import { pipeFilterOf } from '@orderflow/pipeline/engine';
import { PIPE_KEYS, PIPES } from '@orderflow/pipeline/facts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  type PipeSummary,
  pipeControlBodySchema,
  pipeControlResponseSchema,
  pipeParamsSchema,
  pipesResponseSchema,
} from '../schemas/index.ts';
import { actorOf, ERROR_RESPONSES } from './errors.ts';

const pipes: FastifyPluginAsyncZod = async (app) => {
  const { config } = app.ops;
  const summaries: Omit<PipeSummary, 'state' | 'stateError'>[] = PIPE_KEYS.map((key) => {
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
        summary:
          'Both pipes: rule, derived pipe filter, source settings, function, DLQ, and the state EventBridge Pipes reports (DescribePipe)',
        response: { 200: pipesResponseSchema, ...ERROR_RESPONSES },
      },
    },
    async () => {
      const states = await app.ops.pipes.states();
      return {
        pipes: summaries.map((summary) => ({
          ...summary,
          state: states[summary.key].state,
          stateError: states[summary.key].error,
        })),
      };
    },
  );

  // Pause and resume: StopPipe and StartPipe, as an operator would in the Pipes console or with `aws pipes
  // stop-pipe`, audited with the operator's reason.
  for (const change of ['stop', 'start'] as const)
    app.post(
      `/pipes/:pipe/${change}`,
      {
        config: { access: 'operator' },
        schema: {
          summary:
            change === 'stop'
              ? 'Pause a pipe (StopPipe; operators): it stops reading the stream; records written meanwhile wait in the stream (24 hours) and are processed once it is started again. A reason is required and audited'
              : 'Resume a paused pipe (StartPipe; operators): it reads on from its checkpoint. A reason is required and audited',
          params: pipeParamsSchema,
          body: pipeControlBodySchema,
          response: { 200: pipeControlResponseSchema, ...ERROR_RESPONSES },
        },
      },
      async (request) => app.ops.pipes[change](request.params.pipe, request.body.reason, actorOf(request)),
    );
};
export default pipes;
