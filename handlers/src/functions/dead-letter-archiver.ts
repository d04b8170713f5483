import { createDeadLetterArchiverHandler } from '../dead-letters/handler.ts';

/**
 * `<Pipe>DeadLetterArchiverFunction`: the event source of each pipe's DLQ; captures every DLQ message into the
 * dead-letter store (docs/ARCHITECTURE.md, "Dead-letter store").
 */
export const handler = createDeadLetterArchiverHandler();
