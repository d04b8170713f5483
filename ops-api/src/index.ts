export { BODY_LIMIT_BYTES, buildApp, type OpsApiDeps, opsApi } from './app.ts';
export { type AwsClients, createAwsClients } from './clients.ts';
export {
  type AuthConfig,
  ConfigError,
  configFromRuntimeInfo,
  type LocalConfigOptions,
  loadConfig,
  type OpsApiConfig,
} from './config.ts';
/** The check a DLQ body must pass before it steers a stream read or a redrive (the local runtime's tests use it). */
export { DlqOrigin, type DlqOriginConfig } from './services/dlq-origin.ts';
