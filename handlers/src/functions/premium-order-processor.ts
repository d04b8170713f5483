import { createProcessorHandler } from '../processor-handler.ts';

/** PremiumOrderProcessorFunction: target of the premium pipe. */
export const handler = createProcessorHandler('premium');
