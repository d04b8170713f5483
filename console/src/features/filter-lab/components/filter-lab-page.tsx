import type { FilterTestBody } from '@orderflow/ops-api/schemas';
import type { StreamEventName } from '@orderflow/pipeline/facts';
import { type FormEvent, useState } from 'react';
import { useTestFilters } from '../api/test-filters.ts';
import { draftToImage, EMPTY_DRAFT, type OrderDraft, OrderImageFields } from './order-image-fields.tsx';
import { Verdicts } from './verdicts.tsx';

type Mode = 'form' | 'raw';

const RAW_EXAMPLE = JSON.stringify(
  {
    eventID: '1',
    eventName: 'INSERT',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    eventSourceARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/OrdersTable/stream/2026-01-01T00:00:00.000',
    dynamodb: {
      Keys: { orderId: { S: 'order-1' } },
      NewImage: {
        orderId: { S: 'order-1' },
        customerEmail: { S: 'ada@example.com' },
        orderAmount: { N: '150' },
        orderStatus: { S: 'pending' },
        orderDate: { S: '2026-01-15T10:00:00Z' },
      },
      SequenceNumber: '100',
      SizeBytes: 120,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  },
  null,
  2,
);

export function FilterLabPage() {
  const [mode, setMode] = useState<Mode>('form');
  const [eventName, setEventName] = useState<StreamEventName>('INSERT');
  const [hasOld, setHasOld] = useState(false);
  const [oldDraft, setOldDraft] = useState<OrderDraft>(EMPTY_DRAFT);
  const [newDraft, setNewDraft] = useState<OrderDraft>(EMPTY_DRAFT);
  const [raw, setRaw] = useState(RAW_EXAMPLE);
  const [problem, setProblem] = useState<string | null>(null);
  const test = useTestFilters();

  function submit(event: FormEvent) {
    event.preventDefault();
    let request: FilterTestBody;
    if (mode === 'raw') {
      try {
        request = { record: JSON.parse(raw) };
      } catch (error: unknown) {
        setProblem(`The stream record is not valid JSON: ${(error as Error).message}`);
        return;
      }
    } else {
      request = {
        eventName,
        oldImage: hasOld || eventName === 'REMOVE' ? draftToImage(oldDraft) : null,
        newImage: eventName === 'REMOVE' ? null : draftToImage(newDraft),
      };
    }
    setProblem(null);
    test.mutate(request);
  }

  return (
    <>
      <h1>Filter lab</h1>
      <p>Try an order or a status change against both pipes: the business rule, the pipe filter and the guard.</p>
      <form onSubmit={submit} className="stack" noValidate>
        <fieldset className="inline-fields">
          <legend>Input</legend>
          <label>
            <input type="radio" name="mode" checked={mode === 'form'} onChange={() => setMode('form')} /> Order form
          </label>
          <label>
            <input type="radio" name="mode" checked={mode === 'raw'} onChange={() => setMode('raw')} /> Raw stream
            record (JSON)
          </label>
        </fieldset>
        {mode === 'form' ? (
          <>
            <span className="field">
              <label htmlFor="lab-event-name">Event</label>
              <select
                id="lab-event-name"
                value={eventName}
                onChange={(event) => setEventName(event.target.value as StreamEventName)}
              >
                <option value="INSERT">INSERT (new order)</option>
                <option value="MODIFY">MODIFY (change)</option>
                <option value="REMOVE">REMOVE (deletion)</option>
              </select>
            </span>
            {eventName === 'MODIFY' && (
              <label>
                <input type="checkbox" checked={hasOld} onChange={(event) => setHasOld(event.target.checked)} /> Include
                the old image
              </label>
            )}
            <div className="grid-2">
              {(hasOld || eventName === 'REMOVE') && (
                <OrderImageFields legend="Old image" prefix="old" draft={oldDraft} onChange={setOldDraft} />
              )}
              {eventName !== 'REMOVE' && (
                <OrderImageFields legend="New image" prefix="new" draft={newDraft} onChange={setNewDraft} />
              )}
            </div>
          </>
        ) : (
          <>
            <label htmlFor="lab-raw">Stream record JSON</label>
            <textarea
              id="lab-raw"
              className="code"
              rows={18}
              spellCheck={false}
              value={raw}
              onChange={(event) => setRaw(event.target.value)}
            />
          </>
        )}
        {problem && (
          <p role="alert" className="error-text">
            {problem}
          </p>
        )}
        <div>
          <button type="submit" className="primary" disabled={test.isPending}>
            Test against both pipes
          </button>
        </div>
      </form>
      {test.isPending && <p role="status">Testing…</p>}
      {test.isError && (
        <p role="alert" className="error-text">
          The ops API refused the test: {test.error.message}
        </p>
      )}
      {test.data && <Verdicts response={test.data} />}
    </>
  );
}
