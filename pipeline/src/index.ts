export * from './engine.ts';
export * from './facts.ts';
export * from './schemas.ts';
