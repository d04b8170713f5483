import type { MetricsResponse } from '@orderflow/ops-api/schemas';
import { FUNNEL_STAGES } from '@orderflow/pipeline/facts';
import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { LineChart } from '../src/components/charts/line-chart.tsx';
import { MetricsPage } from '../src/features/metrics/components/metrics-page.tsx';
import { FakeOpsApi } from './support/fake-ops-api.ts';
import { renderView } from './support/render.tsx';

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

describe('metrics view chart', () => {
  it("names each series in the legend and the chart's description with the funnel's stage label, not its key", async () => {
    const label = (key: string) => `label of ${key}`;
    const stage = (key: (typeof FUNNEL_STAGES)[number]) => ({ value: 1, estimate: false, label: label(key) });
    const funnel: MetricsResponse['funnel'] = {
      polled: stage('polled'),
      matchedByPipeFilter: stage('matchedByPipeFilter'),
      filteredOut: stage('filteredOut'),
      guardPassed: stage('guardPassed'),
      guardRejected: stage('guardRejected'),
      guardRejectedByClause: [],
      processed: stage('processed'),
      failed: stage('failed'),
      sentToDlq: stage('sentToDlq'),
    };
    const metrics: MetricsResponse = {
      pipe: 'standard',
      from: '2026-01-15T10:00:00.000Z',
      to: '2026-01-15T11:00:00.000Z',
      period: 60,
      exact: true,
      funnel,
      series: FUNNEL_STAGES.map((stage) => ({
        stage,
        points: [
          { timestamp: '2026-01-15T10:00:00.000Z', value: 1 },
          { timestamp: '2026-01-15T10:01:00.000Z', value: 2 },
        ],
      })),
    };
    const api = await new FakeOpsApi().start();
    try {
      api.on('GET /api/metrics/filter', { body: metrics });
      renderView(<MetricsPage />, { path: '/metrics', url: '/metrics?pipe=standard', baseUrl: api.baseUrl });
      const chart = (await screen.findByText('Records over time', { selector: 'figcaption' })).closest(
        'figure',
      ) as HTMLElement;
      const legend = within(chart)
        .getAllByRole('listitem')
        .map((item) => item.textContent);
      expect(legend).toEqual(FUNNEL_STAGES.map(label));
      const description = chart.querySelector('desc')?.textContent ?? '';
      expect(description).toContain(`${label('matchedByPipeFilter')}: total 3, peak 2`);
      for (const key of FUNNEL_STAGES) expect(description).not.toMatch(new RegExp(`(^|; )${key}:`));
    } finally {
      await api.stop();
    }
  });
});
