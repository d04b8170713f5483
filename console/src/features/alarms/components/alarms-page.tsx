import type { Alarm } from '@orderflow/ops-api/schemas';
import { PIPES } from '@orderflow/pipeline/facts';
import { Link } from 'react-router';
import { useAlarms } from '../../../api/get-alarms.ts';
import { QueryView } from '../../../components/query-state.tsx';
import { formatTime } from '../../../lib/format.ts';
import { alarmViewLink } from '../alarm-links.ts';

const STATE_ORDER: Record<Alarm['state'], number> = { ALARM: 0, INSUFFICIENT_DATA: 1, OK: 2 };

function ViewLink({ alarm }: { alarm: Alarm }) {
  const to = alarmViewLink(alarm);
  if (!to) return <>—</>;
  return (
    <Link to={to}>
      Open view<span className="visually-hidden"> for {alarm.name}</span>
    </Link>
  );
}

export function AlarmsPage() {
  const alarms = useAlarms();
  return (
    <>
      <h1>Alarms</h1>
      <QueryView query={alarms} what="alarms" isEmpty={(data) => data.alarms.length === 0}>
        {(data) => (
          <table aria-label="Alarms">
            <thead>
              <tr>
                <th scope="col">State</th>
                <th scope="col">Alarm</th>
                <th scope="col">Pipe</th>
                <th scope="col">Reason</th>
                <th scope="col">Since</th>
                <th scope="col">Runbook</th>
                <th scope="col">View</th>
              </tr>
            </thead>
            <tbody>
              {[...data.alarms]
                .sort((a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state] || a.name.localeCompare(b.name))
                .map((alarm) => (
                  <tr key={alarm.name}>
                    <td>
                      <span className={`badge state-${alarm.state.toLowerCase()}`}>{alarm.state}</span>
                    </td>
                    <td>
                      {alarm.title}
                      <br />
                      <code className="muted">{alarm.name}</code>
                    </td>
                    <td>{alarm.pipe ? PIPES[alarm.pipe].title : 'all pipes'}</td>
                    <td>{alarm.reason}</td>
                    <td>{formatTime(alarm.since)}</td>
                    <td>
                      {alarm.runbookUrl ? (
                        <a href={alarm.runbookUrl} target="_blank" rel="noreferrer">
                          Runbook<span className="visually-hidden"> for {alarm.name}</span>
                        </a>
                      ) : (
                        '—'
                      )}
                    </td>
                    <td>
                      <ViewLink alarm={alarm} />
                    </td>
                  </tr>
                ))}
            </tbody>
          </table>
        )}
      </QueryView>
    </>
  );
}
