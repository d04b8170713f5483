import type { InboxMessage } from '@orderflow/ops-api/schemas';
import { Link } from 'react-router';
import { QueryView } from '../../../components/query-state.tsx';
import { formatTime } from '../../../lib/format.ts';
import { useInbox } from '../api/get-inbox.ts';

/**
 * The on-call inbox: the email the local runtime delivered to the alarm topic's subscribers, as each subscriber
 * received it (its outbox; nothing is sent anywhere). An alarm notification shows its state change and the two links
 * its description carries, the runbook and the console view to start from. In AWS the mail is in the subscribers'
 * mailboxes; the view then says so.
 */
export function InboxPage() {
  const inbox = useInbox();
  return (
    <>
      <h1>On-call inbox</h1>
      <p className="muted">
        Email the local runtime delivered to the alarm topic's subscribers, newest first: the notifications an on-call
        address would receive.
      </p>
      <QueryView query={inbox} what="the on-call inbox">
        {(data) =>
          !data.available ? (
            <p className="empty">{data.reason}</p>
          ) : data.messages.length === 0 ? (
            <p className="empty">
              No email yet. Each alarm state change the alarm topic announces arrives here, OK included.
            </p>
          ) : (
            <table aria-label="On-call inbox" className="inbox">
              <thead>
                <tr>
                  <th scope="col">Delivered</th>
                  <th scope="col">Message</th>
                  <th scope="col">State</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Links</th>
                </tr>
              </thead>
              <tbody>
                {data.messages.map((message) => (
                  <InboxRow key={message.id} message={message} />
                ))}
              </tbody>
            </table>
          )
        }
      </QueryView>
    </>
  );
}

function InboxRow({ message }: { message: InboxMessage }) {
  const { alarm } = message;
  const subject = message.subject ?? '(no subject)';
  return (
    <tr>
      <td>
        <time dateTime={message.deliveredAt}>{formatTime(message.deliveredAt)}</time>
      </td>
      <td>
        {subject}
        <br />
        <span className="muted">to {message.to}</span>
        <details>
          <summary>
            Email as received<span className="visually-hidden">: {subject}</span>
          </summary>
          <pre className="code">{message.body}</pre>
        </details>
      </td>
      <td>
        {alarm ? (
          <>
            <span className={`badge state-${alarm.newState.toLowerCase()}`}>{alarm.newState}</span>
            {alarm.oldState && <span className="muted"> from {alarm.oldState}</span>}
          </>
        ) : (
          '—'
        )}
      </td>
      <td>{alarm ? alarm.reason : '—'}</td>
      <td>
        {alarm?.runbookUrl || alarm?.consoleUrl ? (
          <ul className="plain">
            {alarm.runbookUrl && (
              <li>
                <a href={alarm.runbookUrl} target="_blank" rel="noreferrer">
                  Runbook<span className="visually-hidden">: {subject}</span>
                </a>
              </li>
            )}
            {alarm.consoleUrl && (
              <li>
                <ConsoleLink url={alarm.consoleUrl} subject={subject} />
              </li>
            )}
          </ul>
        ) : (
          '—'
        )}
      </td>
    </tr>
  );
}

/**
 * The description's deep link: within this console it navigates in place (the session stays), elsewhere (a deployed
 * console's link read locally) it is an ordinary link.
 */
function ConsoleLink({ url, subject }: { url: string; subject: string }) {
  const label = (
    <>
      Open in the console<span className="visually-hidden">: {subject}</span>
    </>
  );
  const target = new URL(url, window.location.href);
  if (target.origin === window.location.origin) return <Link to={`${target.pathname}${target.search}`}>{label}</Link>;
  return <a href={url}>{label}</a>;
}
