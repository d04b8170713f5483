import type { DlqMessage } from '@orderflow/ops-api/schemas';
import { PIPES, type PipeKey } from '@orderflow/pipeline/facts';
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Dialog } from '../../../components/dialog.tsx';
import { ReasonDialog } from '../../../components/reason-dialog.tsx';
import { plural } from '../../../lib/format.ts';
import { useCanOperate, VIEWER_ACTION_HINT } from '../../../lib/session.tsx';
import { useDiscardMessages } from '../api/discard-message.ts';
import { isFinished, useRedriveJob } from '../api/get-redrive-job.ts';
import { useStartRedrive } from '../api/start-redrive.ts';
import { recordCount } from '../filters.ts';
import { RedriveProgress } from './redrive-progress.tsx';

/** What a redrive will do, in the words of the confirmation: how many messages and how many records. */
export function redriveSummary(pipe: PipeKey, messages: readonly DlqMessage[]): string {
  return `Redrive ${plural(messages.length, 'message')} (${plural(recordCount(messages), 'record')}) from the ${PIPES[pipe].title} dead-letter queue?`;
}

type Dialogs = 'none' | 'confirm-redrive' | 'discard';

/**
 * Dry run, redrive (after a confirmation stating the counts) and discard (with a required reason) of the selected
 * messages. Viewers see the actions disabled, with the reason.
 */
export function RedriveActions({
  pipe,
  selection,
  onDone,
}: {
  pipe: PipeKey;
  selection: readonly DlqMessage[];
  onDone(): void;
}) {
  const canOperate = useCanOperate();
  const queryClient = useQueryClient();
  const [dialog, setDialog] = useState<Dialogs>('none');
  const [jobId, setJobId] = useState<string | null>(null);
  const start = useStartRedrive(pipe);
  const job = useRedriveJob(jobId);
  const discard = useDiscardMessages(pipe);
  const running = jobId !== null && !isFinished(job.data);
  const nothing = selection.length === 0;
  const disabled = !canOperate || nothing || running || start.isPending || discard.isPending;

  const finished = isFinished(job.data);
  useEffect(() => {
    // A finished real redrive changed the queue: reload it and the depth counts.
    if (finished && job.data && !job.data.dryRun) {
      void queryClient.invalidateQueries({ queryKey: ['dlq-messages', pipe] });
      void queryClient.invalidateQueries({ queryKey: ['dlqs'] });
    }
  }, [finished, job.data, pipe, queryClient]);

  function run(dryRun: boolean) {
    setDialog('none');
    start.reset();
    start.mutate(
      { messageIds: selection.map((message) => message.id), dryRun },
      { onSuccess: (accepted) => setJobId(accepted.jobId) },
    );
  }

  return (
    <section aria-labelledby="actions-heading" className="actions">
      <h2 id="actions-heading">Actions</h2>
      <p aria-live="polite">
        {nothing
          ? 'Select messages in the table to redrive or discard them.'
          : `${plural(selection.length, 'message')} selected (${plural(recordCount(selection), 'record')}).`}
      </p>
      {!canOperate && <p className="muted">{VIEWER_ACTION_HINT}</p>}
      <div className="button-row">
        <button type="button" disabled={disabled} onClick={() => run(true)}>
          Dry run
        </button>
        <button type="button" className="primary" disabled={disabled} onClick={() => setDialog('confirm-redrive')}>
          Redrive selected
        </button>
        <button type="button" className="danger" disabled={disabled} onClick={() => setDialog('discard')}>
          Discard
        </button>
      </div>
      {start.isError && (
        <p role="alert" className="error-text">
          Could not start the redrive: {start.error.message}
        </p>
      )}
      {jobId && <RedriveProgress jobId={jobId} query={job} />}
      {discard.data && (
        <div role="status" className={discard.data.failures.length ? 'error-box' : 'ok-box'}>
          <p>Discarded {plural(discard.data.discarded.length, 'message')}.</p>
          {discard.data.failures.length > 0 && (
            <ul>
              {discard.data.failures.map((failure) => (
                <li key={failure.messageId}>
                  {failure.messageId}: {failure.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {discard.isError && (
        <p role="alert" className="error-text">
          Discard failed: {discard.error.message}
        </p>
      )}
      {dialog === 'confirm-redrive' && (
        <Dialog title="Confirm redrive" onClose={() => setDialog('none')}>
          <p>{redriveSummary(pipe, selection)}</p>
          <p className="muted">
            The processor is invoked again with the same records. A message leaves the queue only when every one of its
            records succeeds.
          </p>
          <div className="button-row">
            <button type="button" className="primary" onClick={() => run(false)}>
              Confirm redrive
            </button>
            <button type="button" onClick={() => setDialog('none')}>
              Cancel
            </button>
          </div>
        </Dialog>
      )}
      {dialog === 'discard' && (
        <DiscardDialog
          count={selection.length}
          onCancel={() => setDialog('none')}
          onConfirm={(reason) => {
            setDialog('none');
            discard.mutate(
              { messageIds: selection.map((message) => message.id), reason },
              {
                onSettled: () => {
                  void queryClient.invalidateQueries({ queryKey: ['dlq-messages', pipe] });
                  void queryClient.invalidateQueries({ queryKey: ['dlqs'] });
                  onDone();
                },
              },
            );
          }}
        />
      )}
    </section>
  );
}

function DiscardDialog({
  count,
  onCancel,
  onConfirm,
}: {
  count: number;
  onCancel(): void;
  onConfirm(reason: string): void;
}) {
  return (
    <ReasonDialog
      title={`Discard ${plural(count, 'message')}`}
      confirmLabel={`Discard ${plural(count, 'message')}`}
      danger
      onCancel={onCancel}
      onConfirm={onConfirm}
    >
      <p>Discarded messages are deleted from the dead-letter queue and their records are not processed.</p>
    </ReasonDialog>
  );
}
