/**
 * `@orderflow/pipeline/facts`: the facts every component shares, as data: pipe keys and definitions (rules, source
 * settings, logical ids), resource names and keys, environment variable names, metric names, alarm definitions,
 * console routes and links, domain enums. No pattern engine, no zod, no Node.js built-in: cheap to import anywhere,
 * the console's browser bundle included. Deriving a pipe filter or checking a rule is the engine's
 * (`@orderflow/pipeline/engine`); validating a message is the schemas' (`@orderflow/pipeline/schemas`).
 */
export * from './dead-letters/cause-signature.ts';
export * from './dead-letters/dead-letter-store.ts';
export * from './journal/failure-classification.ts';
export * from './observability/alarms.ts';
export * from './observability/console-auth.ts';
export * from './observability/console-links.ts';
export * from './observability/metrics.ts';
export * from './orders/order-status.ts';
export * from './pipes/batch-response.ts';
export * from './pipes/definitions.ts';
export * from './pipes/rule.ts';
export * from './pipes/source-settings.ts';
export * from './resources.ts';
export * from './runtime/ops-api-env.ts';
export * from './streams/stream-event.ts';
