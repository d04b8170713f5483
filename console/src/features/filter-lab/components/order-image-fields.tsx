import { ORDER_STATUSES } from '@orderflow/pipeline/facts';

export interface OrderDraft {
  orderId: string;
  customerEmail: string;
  orderAmount: string;
  orderStatus: string;
  orderDate: string;
}

export const EMPTY_DRAFT: OrderDraft = {
  orderId: 'order-1',
  customerEmail: 'ada@example.com',
  orderAmount: '150',
  orderStatus: 'pending',
  orderDate: '2026-01-15T10:00:00Z',
};

/** Plain order JSON as the API takes it: numbers as numbers (the API marshals it into a stream record). */
export function draftToImage(draft: OrderDraft): Record<string, unknown> {
  const amount = Number(draft.orderAmount);
  return {
    ...draft,
    orderAmount: draft.orderAmount.trim() !== '' && Number.isFinite(amount) ? amount : draft.orderAmount,
  };
}

export function OrderImageFields({
  legend,
  prefix,
  draft,
  onChange,
}: {
  legend: string;
  prefix: string;
  draft: OrderDraft;
  onChange(draft: OrderDraft): void;
}) {
  const text = (key: keyof OrderDraft, label: string, type = 'text') => (
    <span className="field">
      <label htmlFor={`${prefix}-${key}`}>{label}</label>
      <input
        id={`${prefix}-${key}`}
        type={type}
        value={draft[key]}
        onChange={(event) => onChange({ ...draft, [key]: event.target.value })}
      />
    </span>
  );
  return (
    <fieldset>
      <legend>{legend}</legend>
      {text('orderId', 'Order id')}
      {text('customerEmail', 'Customer email', 'email')}
      {text('orderAmount', 'Order amount', 'number')}
      <span className="field">
        <label htmlFor={`${prefix}-orderStatus`}>Order status</label>
        <select
          id={`${prefix}-orderStatus`}
          value={draft.orderStatus}
          onChange={(event) => onChange({ ...draft, orderStatus: event.target.value })}
        >
          {ORDER_STATUSES.map((status) => (
            <option key={status}>{status}</option>
          ))}
        </select>
      </span>
      {text('orderDate', 'Order date')}
    </fieldset>
  );
}
