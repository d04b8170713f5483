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
