import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { METRICS_NAMESPACE, SERVICE_NAME } from '@orderflow/pipeline/facts';
import { maskingJsonReplacer } from './processing/masking.ts';

/*
 * Logger, Metrics and Tracer, created once per container (Powertools' recommendation) and shared by both handlers.
 * Powertools reads its own variables (POWERTOOLS_LOG_LEVEL, POWERTOOLS_TRACE_ENABLED, ...); the service name and
 * namespace default to the project's so an unset variable cannot scatter metrics.
 */
const serviceName = process.env.POWERTOOLS_SERVICE_NAME || SERVICE_NAME;

/** Structured JSON logs; every email address in a log line is masked (see masking.ts). */
export const logger = new Logger({ serviceName, jsonReplacerFn: maskingJsonReplacer });

/** EMF metrics in the project's namespace; `Pipe` is set as the default dimension by each handler. */
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName });

/**
 * False where Powertools' Tracer would switch itself off anyway: outside the Lambda execution environment (no
 * `AWS_EXECUTION_ENV`) or with `POWERTOOLS_TRACE_ENABLED=false` (Powertools for TypeScript, Tracer "Environment
 * variables": https://docs.powertools.aws.dev/lambda/typescript/latest/core/tracer/). Where it is true the Tracer
 * still makes the final decision (it also stays off under SAM CLI and Amplify).
 */
export function tracingPossible(env: Readonly<Record<string, string | undefined>>): boolean {
  return Boolean(env.AWS_EXECUTION_ENV) && env.POWERTOOLS_TRACE_ENABLED?.trim().toLowerCase() !== 'false';
}

/**
 * X-Ray tracing, or `undefined` where it cannot be on. The Tracer module loads the X-Ray SDK (aws-xray-sdk-core,
 * cls-hooked, semver), the largest part of the bundle's own init; the dynamic import keeps that work out of a cold
 * start that would not trace (the local runtime, tests). esbuild keeps the module in the same file, evaluated lazily.
 */
export const tracer: Tracer | undefined = tracingPossible(process.env)
  ? new (await import('@aws-lambda-powertools/tracer')).Tracer({ serviceName })
  : undefined;
