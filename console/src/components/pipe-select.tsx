import { PIPE_KEYS, PIPES, type PipeKey } from '@orderflow/pipeline/facts';
import { useId } from 'react';

export function PipeSelect({
  value,
  onChange,
  allowAll = true,
}: {
  value: PipeKey | undefined;
  onChange(pipe: PipeKey | undefined): void;
  allowAll?: boolean;
}) {
  const id = useId();
  return (
    <span className="field">
      <label htmlFor={id}>Pipe</label>
      <select
        id={id}
        value={value ?? ''}
        onChange={(event) => onChange((event.target.value || undefined) as PipeKey | undefined)}
      >
        {allowAll && <option value="">All pipes</option>}
        {PIPE_KEYS.map((key) => (
          <option key={key} value={key}>
            {PIPES[key].title}
          </option>
        ))}
      </select>
    </span>
  );
}
