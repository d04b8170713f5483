import type { DlqMessageDetail, ResolvedRecord } from '@orderflow/ops-api/schemas';
import { isPipeKey, PIPES, type PipeKey } from '@orderflow/pipeline/facts';
import { Link, useParams } from 'react-router';
import { Empty, QueryView } from '../../../components/query-state.tsx';
import { formatTime, plural } from '../../../lib/format.ts';
import { dlqPath } from '../../../lib/routes.ts';
import { useDlqMessage } from '../api/get-dlq-message.ts';
import { useMessageHistory } from '../api/get-message-history.ts';
import { noJournalEntryReason } from '../no-journal-entry.ts';
import { ImageDiffTable } from './image-diff-table.tsx';

export function MessageDetailPage() {
  const { pipe, messageId } = useParams();
  if (!isPipeKey(pipe) || !messageId) {
    return (
      <>
        <h1>Dead-letter message</h1>
        <p role="alert" className="error-text">
          Unknown pipe {JSON.stringify(pipe)} in the address.
        </p>
      </>
    );
  }
  return <MessageDetail pipe={pipe} messageId={messageId} />;
}

function MessageDetail({ pipe, messageId }: { pipe: PipeKey; messageId: string }) {
  const query = useDlqMessage(pipe, messageId);
  return (
    <>
      <p>
        <Link to={dlqPath(pipe)}>Back to the {PIPES[pipe].title} dead-letter queue</Link>
      </p>
      <h1>Dead-letter message {messageId}</h1>
      <QueryView query={query} what="the message">
        {(message) => <MessageBody message={message} />}
      </QueryView>
      <History messageId={messageId} />
    </>
  );
}

function MessageBody({ message }: { message: DlqMessageDetail }) {
  return (
    <>
      <dl className="pairs">
        <dt>Pipe</dt>
        <dd>{PIPES[message.pipe].title}</dd>
        <dt>Sent to the DLQ</dt>
        <dd>{formatTime(message.sentAt)}</dd>
        <dt>DLQ condition</dt>
        <dd>{message.condition ? `${message.condition}: the pipe's reason for sending the batch to the DLQ` : '—'}</dd>
        <dt>Received (browsed)</dt>
        <dd>{plural(message.receiveCount, 'time')}</dd>
        <dt>Stale</dt>
        <dd>
          {message.stale
            ? 'yes: the stream no longer holds these records; they are shown and redriven from the failure journal'
            : 'no'}
        </dd>
      </dl>
      {message.malformed && (
        <p role="alert" className="error-box">
          This message is not a pipe dead-letter message: {message.malformed}
        </p>
      )}
      <section aria-labelledby="records-heading">
        <h2 id="records-heading">Records</h2>
        {message.records.length === 0 ? (
          <Empty>No record could be resolved from the stream or the failure journal.</Empty>
        ) : (
          message.records.map((record) => <RecordView key={record.eventId} record={record} records={message.records} />)
        )}
      </section>
      <section aria-labelledby="body-heading">
        <h2 id="body-heading">Dead-letter message body</h2>
        <p className="muted">
          What the pipe wrote, as SQS delivered it: batch metadata only, no records and no error text (the records above
          are re-read from the stream or the failure journal).
        </p>
        <pre className="code">{formatBody(message.body)}</pre>
      </section>
    </>
  );
}

/** JSON bodies indented for reading (same content); anything else exactly as received. */
function formatBody(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

function History({ messageId }: { messageId: string }) {
  const history = useMessageHistory(messageId);
  return (
    <section aria-labelledby="history-heading">
      <h2 id="history-heading">Redrive and audit history</h2>
      <QueryView
        query={history}
        what="the message's history"
        isEmpty={(entries) => entries.length === 0}
        empty="Nobody has redriven or discarded this message in the last 30 days."
      >
        {(entries) => (
          <table aria-label="Message history">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Action</th>
                <th scope="col">Outcome</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((entry) => (
                <tr key={entry.id}>
                  <td>{formatTime(entry.at)}</td>
                  <td>
                    {entry.actor} ({entry.role})
                  </td>
                  <td>{entry.action}</td>
                  <td>
                    {entry.outcome}
                    {entry.detail ? `: ${entry.detail}` : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </QueryView>
    </section>
  );
}

function RecordView({ record, records }: { record: ResolvedRecord; records: readonly ResolvedRecord[] }) {
  const verdict = record.explanation;
  const headingId = `record-${record.eventId}`;
  return (
    <article aria-labelledby={headingId} className="record">
      <h3 id={headingId}>
        {record.eventName} of order {record.orderId ?? '(unknown)'}{' '}
        <span className="muted">
          event {record.eventId}, from the {record.source === 'stream' ? 'stream' : 'failure journal'}
        </span>
      </h3>
      {record.error ? (
        <dl className="pairs error-box">
          <dt>Error</dt>
          <dd>
            {record.error.name}: {record.error.message}
          </dd>
          <dt>Classification</dt>
          <dd>{record.error.classification}</dd>
          <dt>Attempts</dt>
          <dd>{record.error.attempts}</dd>
          <dt>First failure</dt>
          <dd>{formatTime(record.error.firstFailureAt)}</dd>
          <dt>Last failure</dt>
          <dd>{formatTime(record.error.lastFailureAt)}</dd>
          {record.alreadyProcessed && (
            <>
              <dt>Since then</dt>
              <dd>applied by a later retry or redrive: a redrive finds it done and does not apply it again</dd>
            </>
          )}
        </dl>
      ) : (
        <p className="muted">{noJournalEntryReason(record, records)}</p>
      )}
      {verdict && (
        <dl className="pairs">
          <dt>Pipe filter</dt>
          <dd>{verdict.pipeFilter ? 'matches' : 'does not match'}</dd>
          <dt>Business rule now</dt>
          <dd>{verdict.rule ? 'matches' : 'does not match'}</dd>
          <dt>Explanation</dt>
          <dd>{verdict.explanation}</dd>
        </dl>
      )}
      <ImageDiffTable caption="Old and new image" oldImage={record.oldImage} newImage={record.newImage} />
      <details>
        <summary>Current item in the table</summary>
        <pre className="code">{record.currentItem ? JSON.stringify(record.currentItem, null, 2) : 'deleted'}</pre>
      </details>
    </article>
  );
}
