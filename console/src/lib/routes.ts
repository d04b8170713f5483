import { CONSOLE_ROUTES, type PipeKey } from '@orderflow/pipeline/facts';
import { generatePath } from 'react-router';

/** Paths of the console, from pipeline's `CONSOLE_ROUTES` (the same table alarm deep links are built from). */
export function messagePath(pipe: PipeKey, messageId: string): string {
  return generatePath(CONSOLE_ROUTES.message, { pipe, messageId });
}

export function dlqPath(pipe: PipeKey): string {
  return `${CONSOLE_ROUTES.dlqs}?${new URLSearchParams({ pipe })}`;
}
