import { createProcessorHandler } from '../processor-handler.ts';

/** OrderProcessorFunction: target of the standard pipe. */
export const handler = createProcessorHandler('standard');
