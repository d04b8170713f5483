import { type FormEvent, type ReactNode, useId, useState } from 'react';
import { Dialog } from './dialog.tsx';

/**
 * A confirmation that asks why (a discard, a pipe's pause or resume): the reason goes to the audit log, so the action
 * is refused here, naming what is missing, until one is given.
 */
export function ReasonDialog({
  title,
  children,
  confirmLabel,
  danger,
  minLength = 1,
  onCancel,
  onConfirm,
}: {
  title: string;
  /** What the action does, above the reason. */
  children: ReactNode;
  confirmLabel: string;
  danger: boolean;
  /** The shortest reason accepted, as the API checks it. */
  minLength?: number;
  onCancel(): void;
  onConfirm(reason: string): void;
}) {
  const id = useId();
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  function submit(event: FormEvent) {
    event.preventDefault();
    if (reason.trim().length < minLength) {
      setProblem(
        minLength > 1
          ? `A reason is required (at least ${minLength} characters): it goes to the audit log.`
          : 'A reason is required: it goes to the audit log.',
      );
      return;
    }
    onConfirm(reason.trim());
  }
  return (
    <Dialog title={title} onClose={onCancel}>
      <form onSubmit={submit} noValidate className="stack">
        {children}
        <label htmlFor={`${id}-reason`}>Reason</label>
        <textarea
          id={`${id}-reason`}
          required
          value={reason}
          onChange={(event) => setReason(event.target.value)}
          aria-invalid={problem ? true : undefined}
          aria-describedby={problem ? `${id}-problem` : undefined}
        />
        {problem && (
          <p id={`${id}-problem`} role="alert" className="error-text">
            {problem}
          </p>
        )}
        <div className="button-row">
          <button type="submit" className={danger ? 'danger' : 'primary'}>
            {confirmLabel}
          </button>
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
