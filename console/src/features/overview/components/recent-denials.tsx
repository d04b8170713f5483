import type { Denial } from '@orderflow/ops-api/schemas';
import { Empty, QueryView } from '../../../components/query-state.tsx';
import { formatTime, plural } from '../../../lib/format.ts';
import { useDenials } from '../api/get-denials.ts';

/**
 * Requests the local runtime's IAM enforcement refused, newest first. A denial of one of the stack's own roles is a
 * permission missing from the stack: the same call fails in AWS, so operators should see it before a deploy does. In
 * AWS refused calls are CloudTrail events, which the console does not read; the panel then says so.
 */
export function RecentDenials() {
  const denials = useDenials();
  return (
    <section className="panel" aria-labelledby="denials-heading">
      <h2 id="denials-heading">Recent IAM denials</h2>
      <QueryView query={denials} what="IAM denials">
        {(data) =>
          !data.available ? (
            <p className="muted">{data.reason}</p>
          ) : data.denials.length === 0 ? (
            <Empty>No request has been denied since the local runtime started.</Empty>
          ) : (
            <>
              <p>
                {plural(data.total, 'request')} denied since the local runtime started
                {data.total > data.denials.length ? `; the latest ${data.denials.length} are listed` : ''}. A role of
                the stack refused here is a permission the stack lacks: the same call fails in AWS.
              </p>
              <table aria-label="Recent IAM denials" className="denials">
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Principal</th>
                    <th scope="col">Action</th>
                    <th scope="col">Resource</th>
                    <th scope="col">Reason</th>
                  </tr>
                </thead>
                <tbody>
                  {ordinals(data.total, data.denials).map(({ ordinal, denial }) => (
                    <DenialRow key={ordinal} denial={denial} />
                  ))}
                </tbody>
              </table>
            </>
          )
        }
      </QueryView>
    </section>
  );
}

/** Each denial's place in the run (the log lists the most recent first): a key that stays with it as more arrive. */
function ordinals(total: number, denials: Denial[]): { ordinal: number; denial: Denial }[] {
  return denials.map((denial, position) => ({ ordinal: total - position, denial }));
}

function DenialRow({ denial }: { denial: Denial }) {
  return (
    <tr>
      <td>
        <time dateTime={denial.time}>{formatTime(denial.time)}</time>
      </td>
      <td>
        {denial.role && (
          <>
            {denial.role}
            <br />
          </>
        )}
        <code className="muted">{denial.principal}</code>
      </td>
      <td>
        <code>{denial.action}</code>
      </td>
      <td>
        <code>{denial.resource}</code>
      </td>
      <td>
        {denial.reason}
        <br />
        <span className="muted">{denial.message}</span>
        {denial.policy && (
          <>
            <br />
            <span className="muted">Denied by {denial.policy}</span>
          </>
        )}
      </td>
    </tr>
  );
}
