import { useId } from 'react';

export interface ChartSeries {
  label: string;
  points: { t: number; v: number }[];
}

const WIDTH = 640;
const HEIGHT = 180;
const PAD = { left: 44, right: 12, top: 10, bottom: 24 };
/** Distinguishable for common colour-vision deficiencies (Okabe–Ito palette). */
export const SERIES_COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];

/**
 * The palette's seven colours, then the same colours dashed: the funnel has eight stages, and the eighth (sent to the
 * DLQ) had been drawn exactly like the first (polled).
 */
function seriesStyle(index: number): { stroke: string; strokeDasharray?: string } {
  const stroke = SERIES_COLOURS[index % SERIES_COLOURS.length] as string;
  return index < SERIES_COLOURS.length ? { stroke } : { stroke, strokeDasharray: '6 3' };
}

/** A small hand-rolled SVG time-series chart: no chart library, so the initial bundle stays small. */
export function LineChart({ title, series }: { title: string; series: ChartSeries[] }) {
  const id = useId();
  const all = series.flatMap((s) => s.points);
  const minT = Math.min(...all.map((p) => p.t));
  const maxT = Math.max(...all.map((p) => p.t));
  const maxV = Math.max(1, ...all.map((p) => p.v));
  const x = (t: number) =>
    PAD.left + (maxT === minT ? 0.5 : (t - minT) / (maxT - minT)) * (WIDTH - PAD.left - PAD.right);
  const y = (v: number) => HEIGHT - PAD.bottom - (v / maxV) * (HEIGHT - PAD.top - PAD.bottom);
  const summary = series
    .map(
      (s) =>
        `${s.label}: total ${s.points.reduce((sum, p) => sum + p.v, 0)}, peak ${Math.max(0, ...s.points.map((p) => p.v))}`,
    )
    .join('; ');
  return (
    <figure className="chart">
      <figcaption id={`${id}-title`}>{title}</figcaption>
      {all.length === 0 ? (
        <p className="empty">No data points in this range.</p>
      ) : (
        <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-labelledby={`${id}-title ${id}-desc`}>
          <title>{title}</title>
          <desc id={`${id}-desc`}>{summary}</desc>
          <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(0)} y2={y(0)} className="axis" />
          <line x1={PAD.left} x2={PAD.left} y1={PAD.top} y2={y(0)} className="axis" />
          <text x={PAD.left - 4} y={PAD.top + 8} textAnchor="end" className="tick">
            {maxV}
          </text>
          <text x={PAD.left - 4} y={y(0)} textAnchor="end" className="tick">
            0
          </text>
          <text x={PAD.left} y={HEIGHT - 6} className="tick">
            {new Date(minT).toLocaleTimeString()}
          </text>
          <text x={WIDTH - PAD.right} y={HEIGHT - 6} textAnchor="end" className="tick">
            {new Date(maxT).toLocaleTimeString()}
          </text>
          {series.map((s, index) =>
            // A line through one point has no length and draws nothing (one period of data, or the first minute).
            s.points.length === 1 && s.points[0] ? (
              <circle
                key={s.label}
                cx={x(s.points[0].t)}
                cy={y(s.points[0].v)}
                r={3}
                fill={seriesStyle(index).stroke}
              />
            ) : (
              <polyline
                key={s.label}
                fill="none"
                strokeWidth={2}
                {...seriesStyle(index)}
                points={s.points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ')}
              />
            ),
          )}
        </svg>
      )}
      <ul className="legend">
        {series.map((s, index) => (
          <li key={s.label}>
            <svg className="swatch" viewBox="0 0 12 12" aria-hidden="true">
              <line x1={0} x2={12} y1={6} y2={6} strokeWidth={4} {...seriesStyle(index)} />
            </svg>
            {s.label}
          </li>
        ))}
      </ul>
    </figure>
  );
}
