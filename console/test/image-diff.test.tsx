import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ImageDiffTable } from '../src/features/messages/components/image-diff-table.tsx';
import { diffImages } from '../src/features/messages/image-diff.ts';

const before = { orderId: 'o-1', orderStatus: 'pending', orderAmount: 1500, note: 'gift' };
const after = { orderId: 'o-1', orderStatus: 'shipped', orderAmount: 1500, carrier: 'DHL' };

describe('old/new image diff', () => {
  it('classifies each attribute, key first then alphabetical', () => {
    expect(diffImages(before, after)).toEqual([
      { attribute: 'orderId', old: 'o-1', new: 'o-1', kind: 'unchanged' },
      { attribute: 'carrier', old: undefined, new: 'DHL', kind: 'added' },
      { attribute: 'note', old: 'gift', new: undefined, kind: 'removed' },
      { attribute: 'orderAmount', old: '1500', new: '1500', kind: 'unchanged' },
      { attribute: 'orderStatus', old: 'pending', new: 'shipped', kind: 'changed' },
    ]);
  });

  it('treats a missing image (INSERT, REMOVE) as all added or all removed', () => {
    expect(diffImages(null, { orderId: 'o-1' })).toEqual([
      { attribute: 'orderId', old: undefined, new: 'o-1', kind: 'added' },
    ]);
    expect(diffImages({ orderId: 'o-1' }, null)[0]?.kind).toBe('removed');
    expect(diffImages(null, null)).toEqual([]);
  });

  it('compares nested values by content, not identity', () => {
    expect(diffImages({ tags: ['a', 'b'] }, { tags: ['a', 'b'] })[0]?.kind).toBe('unchanged');
    expect(diffImages({ tags: ['a'] }, { tags: ['a', 'b'] })[0]).toMatchObject({ kind: 'changed', new: '["a","b"]' });
  });

  it('shows old beside new and states the change in text, not only colour', () => {
    render(<ImageDiffTable caption="Old and new image" oldImage={before} newImage={after} />);
    const table = screen.getByRole('table', { name: 'Old and new image' });
    const status = within(table).getByRole('rowheader', { name: 'orderStatus' }).closest('tr');
    expect(status).not.toBeNull();
    expect(
      within(status as HTMLElement)
        .getAllByRole('cell')
        .map((cell) => cell.textContent),
    ).toEqual(['pending', 'shipped', 'changed']);
    const carrier = within(table).getByRole('rowheader', { name: 'carrier' }).closest('tr') as HTMLElement;
    expect(within(carrier).getAllByRole('cell')[0]).toHaveTextContent('absent');
  });
});
