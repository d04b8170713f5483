import { useId } from 'react';
import { formatCount } from '../../lib/format.ts';

export interface FunnelStage {
  label: string;
  value: number | null;
  note?: string;
}

/** Horizontal bars, each stage as a share of the first: where records drop out of the pipeline. */
export function FunnelChart({ title, stages }: { title: string; stages: FunnelStage[] }) {
  const id = useId();
  const max = Math.max(1, ...stages.map((stage) => stage.value ?? 0));
  return (
    <figure className="chart">
      <figcaption id={id}>{title}</figcaption>
      <dl className="funnel" aria-labelledby={id}>
        {stages.map((stage) => (
          <div key={stage.label} className="funnel-row">
            <dt>{stage.label}</dt>
            <dd>
              <svg viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" className="bar">
                <rect x="0" y="0" height="10" width={((stage.value ?? 0) / max) * 100} />
              </svg>
              <span className="bar-value">
                {formatCount(stage.value)}
                {stage.note && <span className="muted"> ({stage.note})</span>}
              </span>
            </dd>
          </div>
        ))}
      </dl>
    </figure>
  );
}
