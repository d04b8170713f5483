import type { DlqMessage } from '@orderflow/ops-api/schemas';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useRef } from 'react';
import { Link } from 'react-router';
import { formatTime } from '../../../lib/format.ts';
import { messagePath } from '../../../lib/routes.ts';
import { errorColumn, recordsIn } from '../filters.ts';

const ROW_HEIGHT = 36;
const COLUMNS = 7;

/**
 * Only the rows in view (plus overscan) are in the DOM, between two spacer rows, so 10,000 messages scroll smoothly
 * while the markup stays a real table (`aria-rowcount`/`aria-rowindex` tell assistive technology the full size).
 */
export function MessageTable({
  messages,
  selected,
  onToggle,
  onToggleAll,
  initialHeight = 480,
}: {
  messages: readonly DlqMessage[];
  selected: ReadonlySet<string>;
  onToggle(id: string): void;
  onToggleAll(select: boolean): void;
  /** Viewport size before layout is measured (and in jsdom, which has no layout). */
  initialHeight?: number;
}) {
  const scrollRef = useRef<HTMLElement>(null);
  const virtualizer = useVirtualizer({
    count: messages.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
    initialRect: { width: 1000, height: initialHeight },
  });
  const items = virtualizer.getVirtualItems();
  const top = items[0]?.start ?? 0;
  const bottom = virtualizer.getTotalSize() - (items[items.length - 1]?.end ?? 0);
  const allSelected = messages.length > 0 && messages.every((message) => selected.has(message.id));
  return (
    <section
      ref={scrollRef}
      className="table-scroll"
      aria-label="Dead-letter messages, scrollable"
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard (WCAG 2.1.1)
      tabIndex={0}
    >
      <table aria-label="Dead-letter messages" aria-rowcount={messages.length + 1}>
        <thead>
          <tr aria-rowindex={1}>
            <th scope="col" className="select-col">
              <input
                type="checkbox"
                aria-label={`Select all ${messages.length} shown messages`}
                checked={allSelected}
                onChange={(event) => onToggleAll(event.target.checked)}
              />
            </th>
            <th scope="col">Sent</th>
            <th scope="col">Orders</th>
            <th scope="col">Records</th>
            <th scope="col">Error</th>
            <th scope="col">Stale</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {top > 0 && (
            <tr style={{ height: top }}>
              <td colSpan={COLUMNS} />
            </tr>
          )}
          {items.map((item) => {
            const message = messages[item.index];
            if (!message) return null;
            const orders = [...new Set(message.records.map((r) => r.orderId).filter(Boolean))].join(', ');
            return (
              <tr key={message.id} aria-rowindex={item.index + 2} style={{ height: ROW_HEIGHT }}>
                <td className="select-col">
                  <input
                    type="checkbox"
                    aria-label={`Select message ${message.id}`}
                    checked={selected.has(message.id)}
                    onChange={() => onToggle(message.id)}
                  />
                </td>
                <td>{formatTime(message.sentAt)}</td>
                <td className="truncate">{orders || '—'}</td>
                <td>{recordsIn(message)}</td>
                <td className="truncate">
                  <ErrorText message={message} />
                </td>
                <td>{message.stale ? 'stale' : ''}</td>
                <td>
                  <Link to={messagePath(message.pipe, message.id)} aria-label={`Open message ${message.id}`}>
                    Open
                  </Link>
                </td>
              </tr>
            );
          })}
          {bottom > 0 && (
            <tr style={{ height: bottom }}>
              <td colSpan={COLUMNS} />
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}

function ErrorText({ message }: { message: DlqMessage }) {
  const { text, condition } = errorColumn(message);
  if (!condition) return text;
  return (
    <span
      className="muted"
      title="No record of this message has an error in the failure journal; the condition is the pipe's reason for sending the batch to the DLQ. Open the message to see why a record has no error."
    >
      {text}
    </span>
  );
}
