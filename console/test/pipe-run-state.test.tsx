import type { PipeState, PipeSummary } from '@orderflow/ops-api/schemas';
import { PIPES } from '@orderflow/pipeline/facts';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import axe from 'axe-core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PipeRunState } from '../src/features/overview/components/pipe-run-state.tsx';
import { FakeOpsApi } from './support/fake-ops-api.ts';
import { renderView } from './support/render.tsx';

/** The pipe card's state and Pause / Resume, against a fake ops API answering as the real one does. */
const pipe = (key: 'standard' | 'premium', state: PipeState | null, stateError: string | null = null) =>
  ({ key, state, stateError }) as Partial<PipeSummary>;
const running: PipeState = {
  desired: 'RUNNING',
  current: 'RUNNING',
  reason: null,
  lastModified: '2026-01-15T10:00:00Z',
};
const title = PIPES.standard.title;

let api: FakeOpsApi;
/** What GET /api/pipes answers for the standard pipe now. */
let standard: PipeState | null;
beforeEach(async () => {
  standard = running;
  api = await new FakeOpsApi().start();
  api.on('GET /api/pipes', () => ({ body: { pipes: [pipe('standard', standard), pipe('premium', running)] } }));
});
afterEach(() => api.stop());

const show = (role: 'operator' | 'viewer') =>
  renderView(<PipeRunState pipe="standard" />, { path: '/', url: '/', baseUrl: api.baseUrl, role });

describe('a pipe card: state, pause and resume', () => {
  it('pauses after a confirmation with a reason, shows the pipe stopping, then offers Resume', async () => {
    api.on('POST /api/pipes/standard/stop', () => {
      standard = { ...running, desired: 'STOPPED', current: 'STOPPING' };
      return { body: { pipe: 'standard', pipeName: 'orderflow-standard', state: standard, auditId: 'a-1' } };
    });
    const user = userEvent.setup();
    show('operator');
    expect(await screen.findByText('running')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: `Pause the ${title} pipe` }));
    const dialog = screen.getByRole('dialog', { name: `Pause the ${title} pipe` });
    expect(dialog).toHaveTextContent(/processed when the pipe resumes/);
    // The dialog is accessible (axe, serious and critical).
    const result = await axe.run(document.body, { rules: { 'color-contrast': { enabled: false } } });
    expect(result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
    await user.click(within(dialog).getByRole('button', { name: 'Pause pipe' }));
    expect(within(dialog).getByRole('alert')).toHaveTextContent('A reason is required');
    expect(api.requestsTo('POST', '/api/pipes/standard/stop')).toHaveLength(0);
    await user.type(within(dialog).getByLabelText('Reason'), 'processor keeps failing');
    await user.click(within(dialog).getByRole('button', { name: 'Pause pipe' }));
    await waitFor(() => expect(api.requestsTo('POST', '/api/pipes/standard/stop')).toHaveLength(1));
    expect(api.requestsTo('POST', '/api/pipes/standard/stop')[0]?.body).toEqual({ reason: 'processor keeps failing' });
    expect(await screen.findByText(/pausing/)).toBeInTheDocument();
    // While it settles there is nothing to click.
    expect(screen.getByRole('button', { name: `Resume the ${title} pipe` })).toBeDisabled();
    standard = { ...running, desired: 'STOPPED', current: 'STOPPED' };
    expect(await screen.findByText('paused (stopped)', {}, { timeout: 5_000 })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: `Resume the ${title} pipe` })).toBeEnabled();
  });

  it("resumes, and shows the API's refusal", async () => {
    standard = { ...running, desired: 'STOPPED', current: 'STOPPED' };
    api.on('POST /api/pipes/standard/start', {
      status: 409,
      body: { statusCode: 409, error: 'Conflict', message: 'pipe orderflow-standard cannot start now: it is STOPPING' },
    });
    const user = userEvent.setup();
    show('operator');
    await user.click(await screen.findByRole('button', { name: `Resume the ${title} pipe` }));
    const dialog = screen.getByRole('dialog', { name: `Resume the ${title} pipe` });
    await user.type(within(dialog).getByLabelText('Reason'), 'fixed');
    await user.click(within(dialog).getByRole('button', { name: 'Resume pipe' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Could not resume the pipe: pipe orderflow-standard cannot start now: it is STOPPING',
    );
  });

  it('shows a viewer the state and no button', async () => {
    show('viewer');
    expect(await screen.findByText('running')).toBeInTheDocument();
    expect(screen.queryByRole('button')).toBeNull();
  });

  it('says why the state is unknown when the API could not read it', async () => {
    standard = null;
    api.on('GET /api/pipes', { body: { pipes: [pipe('standard', null, 'AccessDeniedException: denied')] } });
    show('operator');
    expect(await screen.findByText('unknown (AccessDeniedException: denied)')).toBeInTheDocument();
    expect(screen.queryByRole('button')).toBeNull();
  });
});
