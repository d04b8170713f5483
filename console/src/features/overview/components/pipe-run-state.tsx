import type { PipeState } from '@orderflow/ops-api/schemas';
import { PIPES, type PipeKey } from '@orderflow/pipeline/facts';
import { useState } from 'react';
import { ReasonDialog } from '../../../components/reason-dialog.tsx';
import { useCanOperate } from '../../../lib/session.tsx';
import { isSettling, type PipeChange, useChangePipeState, usePipes } from '../api/pipes.ts';

/** The pipe's state in words, and the badge tone it is shown with. */
export function describePipeState(state: PipeState): { text: string; tone: 'ok' | 'unknown' | 'alarm' } {
  if (state.current.endsWith('_FAILED'))
    return {
      text: `${state.current.toLowerCase().replace('_', ' ')}${state.reason ? `: ${state.reason}` : ''}`,
      tone: 'alarm',
    };
  if (state.current === 'RUNNING') return { text: 'running', tone: 'ok' };
  if (state.current === 'STOPPED') return { text: 'paused (stopped)', tone: 'alarm' };
  if (state.current === 'STOPPING') return { text: 'pausing: finishing the batches in flight', tone: 'unknown' };
  if (state.current === 'STARTING') return { text: 'resuming', tone: 'unknown' };
  return { text: state.current.toLowerCase(), tone: 'unknown' };
}

/**
 * A pipe's state as EventBridge Pipes reports it, and for operators Pause / Resume (StopPipe / StartPipe), each after
 * a confirmation that says what it does and asks for the reason the audit log records. While a pipe is paused its
 * records wait in the stream (kept 24 hours) and are processed when it resumes.
 */
export function PipeRunState({ pipe }: { pipe: PipeKey }) {
  const canOperate = useCanOperate();
  const pipes = usePipes();
  const change = useChangePipeState(pipe);
  const [dialog, setDialog] = useState<PipeChange | null>(null);
  const summary = pipes.data?.pipes.find((p) => p.key === pipe);
  const state = summary?.state ?? null;
  const title = PIPES[pipe].title;
  const shown = state
    ? describePipeState(state)
    : {
        text: pipes.isPending ? 'reading…' : `unknown${summary?.stateError ? ` (${summary.stateError})` : ''}`,
        tone: 'unknown' as const,
      };
  const paused = state?.desired === 'STOPPED';
  const next: PipeChange = paused ? 'start' : 'stop';
  return (
    <div className="pipe-state">
      {/* Announced when it changes (pausing, paused, resuming, running). */}
      <p aria-live="polite">
        Pipe: <span className={`badge state-${shown.tone}`}>{shown.text}</span>
      </p>
      {canOperate && state && (
        <button
          type="button"
          className={paused ? 'primary' : 'danger'}
          disabled={isSettling(state) || change.isPending}
          onClick={() => {
            change.reset();
            setDialog(next);
          }}
        >
          {paused ? 'Resume' : 'Pause'} <span className="visually-hidden">the {title} pipe</span>
        </button>
      )}
      {change.isError && (
        <p role="alert" className="error-text">
          Could not {change.variables?.change === 'start' ? 'resume' : 'pause'} the pipe: {change.error.message}
        </p>
      )}
      {dialog && (
        <PipeChangeDialog
          title={title}
          change={dialog}
          onCancel={() => setDialog(null)}
          onConfirm={(reason) => {
            const requested = dialog;
            setDialog(null);
            change.mutate({ change: requested, reason });
          }}
        />
      )}
    </div>
  );
}

function PipeChangeDialog({
  title,
  change,
  onCancel,
  onConfirm,
}: {
  title: string;
  change: PipeChange;
  onCancel(): void;
  onConfirm(reason: string): void;
}) {
  const verb = change === 'stop' ? 'Pause' : 'Resume';
  return (
    <ReasonDialog
      title={`${verb} the ${title} pipe`}
      confirmLabel={`${verb} pipe`}
      danger={change === 'stop'}
      minLength={3}
      onCancel={onCancel}
      onConfirm={onConfirm}
    >
      {change === 'stop' ? (
        <p>
          The pipe stops reading the orders stream once the batches in flight finish: nothing reaches the processor or
          the dead-letter queue until it is resumed. Orders written meanwhile wait in the stream, which keeps them 24
          hours, and are processed when the pipe resumes.
        </p>
      ) : (
        <p>The pipe reads on from where it stopped: the orders written while it was paused are processed now.</p>
      )}
    </ReasonDialog>
  );
}
