import { useId } from 'react';
import { fromDateTimeLocal, toDateTimeLocal } from '../lib/format.ts';
import { type ParamPatch, type TimeRangeSpec, WINDOW_OPTIONS } from '../lib/view-state.ts';

/** Relative window or absolute range; writes `window` or `from`/`to` to the URL. */
export function TimeRangePicker({ value, onChange }: { value: TimeRangeSpec; onChange(patch: ParamPatch): void }) {
  const id = useId();
  const known = value.kind === 'window' && WINDOW_OPTIONS.some((option) => option.seconds === value.seconds);
  const selected = value.kind === 'absolute' ? 'custom' : String(value.seconds);
  return (
    <fieldset className="inline-fields">
      <legend>Time range</legend>
      <label htmlFor={`${id}-window`}>Window</label>
      <select
        id={`${id}-window`}
        value={selected}
        onChange={(event) => {
          if (event.target.value === 'custom') {
            const now = new Date();
            onChange({
              window: null,
              from: new Date(now.getTime() - 3600_000).toISOString(),
              to: now.toISOString(),
            });
          } else onChange({ window: event.target.value, from: null, to: null });
        }}
      >
        {WINDOW_OPTIONS.map((option) => (
          <option key={option.seconds} value={option.seconds}>
            {option.label}
          </option>
        ))}
        {!known && value.kind === 'window' && <option value={value.seconds}>Last {value.seconds} seconds</option>}
        <option value="custom">Custom range</option>
      </select>
      {value.kind === 'absolute' && (
        <>
          <label htmlFor={`${id}-from`}>From</label>
          <input
            id={`${id}-from`}
            type="datetime-local"
            value={toDateTimeLocal(value.from)}
            onChange={(event) => onChange({ from: fromDateTimeLocal(event.target.value) })}
          />
          <label htmlFor={`${id}-to`}>To</label>
          <input
            id={`${id}-to`}
            type="datetime-local"
            value={toDateTimeLocal(value.to)}
            onChange={(event) => onChange({ to: fromDateTimeLocal(event.target.value) })}
          />
        </>
      )}
    </fieldset>
  );
}
