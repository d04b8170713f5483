import { type DiffKind, diffImages, type Image } from '../image-diff.ts';

const KIND_TEXT: Record<DiffKind, string> = {
  added: 'added',
  removed: 'removed',
  changed: 'changed',
  unchanged: '',
};

/** Old image beside new image; changed attributes are marked in text as well as colour. */
export function ImageDiffTable({
  caption,
  oldImage,
  newImage,
}: {
  caption: string;
  oldImage: Image | null;
  newImage: Image | null;
}) {
  const rows = diffImages(oldImage, newImage);
  if (rows.length === 0) return <p className="empty">The record carries no image.</p>;
  return (
    <table className="diff">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Attribute</th>
          <th scope="col">Old image</th>
          <th scope="col">New image</th>
          <th scope="col">Change</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.attribute} className={`diff-${row.kind}`}>
            <th scope="row">{row.attribute}</th>
            <td>{row.old ?? <span className="muted">absent</span>}</td>
            <td>{row.new ?? <span className="muted">absent</span>}</td>
            <td>{KIND_TEXT[row.kind]}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
