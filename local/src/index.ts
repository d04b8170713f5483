export {
  AlarmBoard,
  type AlarmSpec,
  type AlarmState,
  evaluateCompositeRule,
  evaluateMetricAlarm,
} from './cloudwatch/alarms.ts';
export { MetricStore } from './cloudwatch/metric-store.ts';
export { startCloudWatchServer } from './cloudwatch/server.ts';
export { parseEmfLine } from './lambda/emf.ts';
export {
  type Fault,
  type FaultMode,
  type FunctionSpec,
  type InvokeResult,
  LambdaService,
} from './lambda/lambda-service.ts';
export { startLambdaServer } from './lambda/server.ts';
export { CheckpointStore } from './pipes/checkpoints.ts';
export { PipeEmulator, type PipeEmulatorOptions, type TargetOutcome } from './pipes/pipe-emulator.ts';
export { StreamsApi } from './pipes/streams-api.ts';
export {
  LOCAL_ACCOUNT,
  LOCAL_REGION,
  type LocalOpsApi,
  type LocalRuntime,
  LocalRuntimeError,
  type LocalRuntimeOptions,
  type LocalRuntimePorts,
  REPO_ROOT,
  startLocalRuntime,
} from './runtime.ts';
export {
  type DynamoDbLocal,
  JavaMissingError,
  LOCAL_CREDENTIALS,
  requireJava,
  startDynamoDbLocal,
} from './services/dynamodb-local.ts';
export { assertPortFree, freePort } from './services/ports.ts';
export { type LocalSqs, startSqs } from './services/sqs.ts';
export { type NotificationEnvelope, stringToSign } from './sns/envelope.ts';
export { DEFAULT_ON_CALL_EMAIL } from './sns/model.ts';
export { Outbox, type OutboxMessage, type OutboxQuery } from './sns/outbox.ts';
export { type Delivery, SnsService } from './sns/sns-service.ts';
export { loadTemplate, summarize, TemplateError } from './template/local-plan.ts';
export { demoOrder, startDemoTraffic } from './traffic/demo-traffic.ts';
