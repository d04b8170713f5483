export { CONTEXT_KEYS, createApp } from './app.ts';
export { MissingBuildOutputError } from './constructs/bundled-function.ts';
export { OrderflowStack, STACK_NAME } from './orderflow-stack.ts';
export { type OrderflowStackProps, OrderflowStackPropsError } from './props.ts';
