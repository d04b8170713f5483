import type { FilterTestResponse } from '@orderflow/ops-api/schemas';
import { pipeFilterOf } from '@orderflow/pipeline/engine';
import { PIPE_KEYS, PIPES } from '@orderflow/pipeline/facts';

function Verdict({ value }: { value: boolean }) {
  return <strong className={value ? 'ok-text' : 'error-text'}>{value ? 'matches' : 'does not match'}</strong>;
}

/** Per pipe: rule, pipe filter and guard verdicts, and the rule's clauses with the failing one highlighted. */
export function Verdicts({ response }: { response: FilterTestResponse }) {
  return (
    <section aria-labelledby="verdicts-heading">
      <h2 id="verdicts-heading">Verdicts</h2>
      <div className="grid-2">
        {PIPE_KEYS.map((key) => {
          const verdict = response.results[key];
          const pipe = PIPES[key];
          if (!verdict) return null;
          // The API names the guard's first failing clause by its id (the `Clause` metric dimension).
          const failing = verdict.failingClause?.id;
          // The guard is the full rule evaluated by the processor, on what the pipe filter let through.
          const guard = !verdict.pipeFilter
            ? 'not reached (the pipe filter drops it)'
            : verdict.rule
              ? 'passes'
              : 'rejects';
          return (
            <section key={key} aria-labelledby={`verdict-${key}`} className="panel">
              <h3 id={`verdict-${key}`}>{pipe.title}</h3>
              <dl className="pairs">
                <dt>Business rule</dt>
                <dd>
                  <Verdict value={verdict.rule} />
                </dd>
                <dt>Pipe filter</dt>
                <dd>
                  <Verdict value={verdict.pipeFilter} />
                </dd>
                <dt>Guard</dt>
                <dd>{guard}</dd>
                <dt>Explanation</dt>
                <dd>{verdict.explanation}</dd>
              </dl>
              <h4>Rule clauses</h4>
              <ul className="clauses">
                {pipe.rule.clauses.map((clause) => (
                  <li key={clause.id} className={clause.id === failing ? 'failing' : undefined}>
                    {clause.id === failing ? (
                      <mark>
                        <strong>Fails:</strong> {clause.description} (<code>{clause.id}</code>)
                      </mark>
                    ) : (
                      <>
                        {clause.description} (<code>{clause.id}</code>)
                      </>
                    )}
                  </li>
                ))}
              </ul>
              <details>
                <summary>Pipe filter pattern</summary>
                <pre className="code">{JSON.stringify(pipeFilterOf(key), null, 2)}</pre>
              </details>
            </section>
          );
        })}
      </div>
    </section>
  );
}
