import { FUNNEL_STAGES } from '@orderflow/pipeline';
import { render } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { LineChart } from '../src/components/charts/line-chart.tsx';

describe('line chart', () => {
  it('draws every funnel stage in a style of its own, in the chart and its legend', () => {
    const series = FUNNEL_STAGES.map((stage, index) => ({
      label: stage,
      points: [
        { t: 0, v: index },
        { t: 60_000, v: 1 },
      ],
    }));
    const { container } = render(<LineChart title="Records over time" series={series} />);
    const lines = [...container.querySelectorAll('polyline')].map(
      (line) => `${line.getAttribute('stroke')} ${line.getAttribute('stroke-dasharray') ?? 'solid'}`,
    );
    expect(lines).toHaveLength(FUNNEL_STAGES.length);
    expect(new Set(lines).size).toBe(FUNNEL_STAGES.length);
    const swatches = [...container.querySelectorAll('.legend .swatch')].map((swatch) => swatch.outerHTML);
    expect(new Set(swatches).size).toBe(FUNNEL_STAGES.length);
  });

  it('marks a series of one point, which a line cannot show', () => {
    const { container } = render(
      <LineChart title="Records over time" series={[{ label: 'polled', points: [{ t: 0, v: 97 }] }]} />,
    );
    expect(container.querySelectorAll('circle')).toHaveLength(1);
  });
});
