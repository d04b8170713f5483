/** An image as plain JSON (numbers as numbers), as the ops API resolves it. */
export type Image = Record<string, unknown>;

export type DiffKind = 'added' | 'removed' | 'changed' | 'unchanged';

export interface DiffRow {
  attribute: string;
  old: string | undefined;
  new: string | undefined;
  kind: DiffKind;
}

function show(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Attribute-by-attribute comparison of a record's old and new image (plain JSON), for the side-by-side view. The
 * partition key comes first, then the rest alphabetically, so the same order shows in every message.
 */
export function diffImages(oldImage: Image | null, newImage: Image | null, keyAttribute = 'orderId'): DiffRow[] {
  const names = new Set([...Object.keys(oldImage ?? {}), ...Object.keys(newImage ?? {})]);
  const ordered = [...names].sort((a, b) => (a === keyAttribute ? -1 : b === keyAttribute ? 1 : a.localeCompare(b)));
  return ordered.map((attribute) => {
    const before = show(oldImage?.[attribute]);
    const after = show(newImage?.[attribute]);
    const kind: DiffKind =
      before === undefined ? 'added' : after === undefined ? 'removed' : before === after ? 'unchanged' : 'changed';
    return { attribute, old: before, new: after, kind };
  });
}
