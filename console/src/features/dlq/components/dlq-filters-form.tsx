import { fromDateTimeLocal, toDateTimeLocal } from '../../../lib/format.ts';
import type { ParamPatch } from '../../../lib/view-state.ts';
import { DLQ_FILTER_PARAMS, type DlqFilters, hasActiveFilters } from '../filters.ts';

const TEXT_FILTERS = [
  { key: 'orderId', label: 'Order id' },
  { key: 'email', label: 'Customer email' },
  { key: 'error', label: 'Error text' },
] as const;

/** Every change goes to the URL at once, so the filtered view can be shared or bookmarked. */
export function DlqFiltersForm({ filters, onChange }: { filters: DlqFilters; onChange(patch: ParamPatch): void }) {
  return (
    <search className="filters" aria-label="Message filters">
      {TEXT_FILTERS.map((filter) => (
        <span className="field" key={filter.key}>
          <label htmlFor={`dlq-filter-${filter.key}`}>{filter.label}</label>
          <input
            id={`dlq-filter-${filter.key}`}
            type="search"
            value={filters[filter.key]}
            onChange={(event) => onChange({ [filter.key]: event.target.value })}
          />
        </span>
      ))}
      <span className="field">
        <label htmlFor="dlq-filter-stale">Records</label>
        <select
          id="dlq-filter-stale"
          value={filters.stale}
          onChange={(event) => onChange({ stale: event.target.value === 'all' ? null : event.target.value })}
        >
          <option value="all">Stale or not</option>
          <option value="stale">Stale only (left the stream)</option>
          <option value="fresh">Still in the stream</option>
        </select>
      </span>
      <span className="field">
        <label htmlFor="dlq-filter-from">Sent after</label>
        <input
          id="dlq-filter-from"
          type="datetime-local"
          value={filters.from ? toDateTimeLocal(filters.from) : ''}
          onChange={(event) => onChange({ from: fromDateTimeLocal(event.target.value) })}
        />
      </span>
      <span className="field">
        <label htmlFor="dlq-filter-to">Sent before</label>
        <input
          id="dlq-filter-to"
          type="datetime-local"
          value={filters.to ? toDateTimeLocal(filters.to) : ''}
          onChange={(event) => onChange({ to: fromDateTimeLocal(event.target.value) })}
        />
      </span>
      <button
        type="button"
        disabled={!hasActiveFilters(filters)}
        onClick={() => onChange(Object.fromEntries(DLQ_FILTER_PARAMS.map((key) => [key, null])))}
      >
        Clear filters
      </button>
    </search>
  );
}
