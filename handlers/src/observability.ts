import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { METRICS_NAMESPACE, SERVICE_NAME } from '@orderflow/pipeline';
import { maskingJsonReplacer } from './processing/masking.ts';

/*
 * Logger, Metrics and Tracer, created once per container (Powertools' recommendation) and shared by both handlers.
 * Powertools reads its own variables (POWERTOOLS_LOG_LEVEL, POWERTOOLS_TRACE_DISABLED, ...); the service name and
 * namespace default to the project's so an unset variable cannot scatter metrics.
 */
const serviceName = process.env.POWERTOOLS_SERVICE_NAME || SERVICE_NAME;

/** Structured JSON logs; every email address in a log line is masked (see masking.ts). */
export const logger = new Logger({ serviceName, jsonReplacerFn: maskingJsonReplacer });

/** EMF metrics in the project's namespace; `Pipe` is set as the default dimension by each handler. */
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName });

/**
 * X-Ray tracing. Powertools disables it outside the Lambda execution environment (no `AWS_EXECUTION_ENV`) and with
 * POWERTOOLS_TRACE_DISABLED=true, so the same bundle runs locally without a daemon.
 */
export const tracer = new Tracer({ serviceName });
