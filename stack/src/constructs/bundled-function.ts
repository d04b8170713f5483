import { existsSync } from 'node:fs';
import { LAMBDA_BUNDLING } from '@orderflow/handlers/bundling';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Architecture, type CfnFunction, LambdaInsightsVersion, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { REPO_ROOT, repoPath } from '../paths.ts';

export interface BundledFunctionProps {
  /** Absolute path of the TypeScript entry exporting `handler`. */
  readonly entry: string;
  /** The command that creates the entry when it is missing, for the synth error. */
  readonly entryOwner: string;
  readonly description: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: RetentionDays;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** Pin the function's logical id (the local runtime names functions by logical id). @default CDK's id */
  readonly logicalId?: string;
}

/** Thrown at synth when an input the stack bundles or uploads has not been built or written yet. */
export class MissingBuildOutputError extends Error {
  override readonly name = 'MissingBuildOutputError';
}

/**
 * A Node.js 22 arm64 function bundled with the handlers' shared esbuild options (`LAMBDA_BUNDLING`), with active
 * tracing, the Lambda Insights layer and its own log group with a retention.
 */
export function bundledFunction(scope: Construct, id: string, props: BundledFunctionProps): NodejsFunction {
  if (!existsSync(props.entry)) {
    throw new MissingBuildOutputError(
      `entry ${props.entry} of function '${id}' does not exist; it is written by ${props.entryOwner}`,
    );
  }
  const logGroup = new LogGroup(scope, `${id}LogGroup`, {
    retention: props.logRetention,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const fn = new NodejsFunction(scope, id, {
    entry: props.entry,
    handler: 'handler',
    description: props.description,
    runtime: Runtime.NODEJS_22_X,
    architecture: Architecture.ARM_64,
    memorySize: props.memorySize ?? 512,
    timeout: props.timeout ?? Duration.seconds(30),
    tracing: Tracing.ACTIVE,
    // The layer ARN differs per region: in this environment-agnostic stack CDK emits a region Mapping for it.
    insightsVersion: LambdaInsightsVersion.VERSION_1_0_498_0,
    logGroup,
    projectRoot: REPO_ROOT,
    depsLockFilePath: repoPath('package-lock.json'),
    environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
    bundling: {
      format: OutputFormat.ESM,
      platform: LAMBDA_BUNDLING.platform,
      target: LAMBDA_BUNDLING.target,
      minify: LAMBDA_BUNDLING.minify,
      sourceMap: LAMBDA_BUNDLING.sourcemap,
      externalModules: [...LAMBDA_BUNDLING.external],
      mainFields: [...LAMBDA_BUNDLING.mainFields],
      banner: LAMBDA_BUNDLING.banner,
      esbuildArgs: { '--legal-comments': LAMBDA_BUNDLING.legalComments },
    },
  });
  if (props.logicalId) (fn.node.defaultChild as CfnFunction).overrideLogicalId(props.logicalId);
  return fn;
}
