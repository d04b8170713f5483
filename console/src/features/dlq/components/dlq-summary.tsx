import { PIPES } from '@orderflow/pipeline/facts';
import { Link } from 'react-router';
import { useDlqs } from '../../../api/get-dlqs.ts';
import { QueryView } from '../../../components/query-state.tsx';
import { formatCount, formatDuration } from '../../../lib/format.ts';
import { dlqPath } from '../../../lib/routes.ts';

export function DlqSummary() {
  const dlqs = useDlqs();
  return (
    <section aria-labelledby="dlq-summary-heading">
      <h2 id="dlq-summary-heading">Queues</h2>
      <QueryView query={dlqs} what="dead-letter queues" isEmpty={(data) => data.dlqs.length === 0}>
        {(data) => (
          <ul className="cards">
            {data.dlqs.map((dlq) => (
              <li key={dlq.pipe} className={`card ${dlq.visible + dlq.inFlight > 0 ? 'warn' : ''}`}>
                <h3>{PIPES[dlq.pipe].title}</h3>
                <dl className="pairs">
                  <dt>Messages</dt>
                  <dd>{formatCount(dlq.visible)}</dd>
                  <dt>In flight</dt>
                  <dd>{formatCount(dlq.inFlight)}</dd>
                  <dt>Oldest message</dt>
                  <dd>{formatDuration(dlq.oldestMessageAgeSeconds)}</dd>
                </dl>
                <Link to={dlqPath(dlq.pipe)}>Show {PIPES[dlq.pipe].key} messages</Link>
              </li>
            ))}
          </ul>
        )}
      </QueryView>
    </section>
  );
}
