import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, REPO_ROOT, startLocalRuntime } from '../src/runtime.ts';
import { LOCAL_CREDENTIALS } from '../src/services/dynamodb-local.ts';
import { documentedCommandsEnv, runReadmeBlock } from './aws-clients.ts';

/**
 * Every shell block of docs/runbooks/*.md, run as written with Debian's AWS CLI 2.9 against a running local runtime
 * (ops API as deployed included). The runbooks carry no `--endpoint-url` (an operator in AWS has none): `aws` is a
 * shell function that adds the runtime's endpoint for the service named, from runtime.json, and runs `/usr/bin/aws`.
 * The operator's own values the runbooks' prose asks for are set: `TOKEN` (the operator token) and `OPS_API`.
 *
 * Services the runtime does not serve are not called. Each such call is recorded instead, and the test requires the
 * record to be exactly {@link NOT_SERVED} (today none; docs/ARCHITECTURE.md, "runbooks that run"):
 * a runbook that gains a command of a service nobody serves, or loses one, fails here until both agree. The README's
 * AWS CLI blocks run as written too (its CloudWatch block in dashboard-metrics.test.ts, after traffic); its `curl`
 * blocks show the ops API's routes with placeholders (MESSAGE_ID, JOB_ID), which ops-api's tests exercise.
 */
const NOT_SERVED: readonly string[] = [];

const execFileAsync = promisify(execFile);
const templateDir = join(REPO_ROOT, 'stack/cdk.out');
const runbooksDir = join(REPO_ROOT, 'docs/runbooks');
const work = mkdtempSync(join(tmpdir(), 'orderflow-runbooks-'));
let runtime: LocalRuntime;

beforeAll(async () => {
  if (!existsSync(join(templateDir, 'Orderflow.template.json'))) {
    const synth = spawnSync('npm', ['run', 'build', '-w', 'stack'], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (synth.status !== 0) throw new Error(`stack synth failed: ${synth.stderr}`);
  }
  runtime = await startLocalRuntime({ stateDir: join(work, '.orderflow'), opsApi: 'lambda' });
}, 180_000);

afterAll(async () => {
  await runtime?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** The fenced `sh`/`bash` blocks of a Markdown file, in order. */
function shellBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```(?:sh|bash)\n([\s\S]*?)^```$/gm)].map((match) => match[1] ?? '');
}

/**
 * The `aws` function: the endpoint of each served service from runtime.json; a service the runtime does not serve is
 * recorded as `<runbook>: <service> <operation>` in $NOT_SERVED_LOG and answers nothing; an unknown one fails.
 */
function awsFunction(): string {
  const { endpoints } = runtime.info;
  const served: Record<string, string | undefined> = {
    dynamodb: endpoints.dynamodb,
    dynamodbstreams: endpoints.dynamodbStreams,
    sqs: endpoints.sqs,
    lambda: endpoints.lambda,
    pipes: endpoints.pipes,
    cloudwatch: endpoints.cloudwatch,
    logs: endpoints.logs,
    cloudtrail: endpoints.cloudtrail,
    sns: endpoints.sns,
    cloudformation: endpoints.cloudformation,
  };
  const cases = Object.entries(served)
    .filter(([, url]) => url !== undefined)
    .map(([service, url]) => `    ${service}) endpoint='${url}' ;;`)
    .join('\n');
  return `aws() {
  local endpoint
  case "$1" in
${cases}
    kms|iam|sts|xray|s3api|s3|cognito-idp) echo "$RUNBOOK: $1 $2" >> "$NOT_SERVED_LOG"; return 0 ;;
    *) echo "the runbook calls 'aws $1', which neither the runtime serves nor runbooks.test.ts lists" >&2; return 97 ;;
  esac
  /usr/bin/aws --endpoint-url "$endpoint" "$@"
}`;
}

async function runBlock(runbook: string, block: string, notServedLog: string) {
  return execFileAsync('bash', ['--norc', '--noprofile', '-euo', 'pipefail', '-c', `${awsFunction()}\n${block}`], {
    cwd: work,
    env: {
      ...documentedCommandsEnv(work),
      TOKEN: runtime.info.tokens.operator,
      OPS_API: runtime.info.opsApi ?? '',
      RUNBOOK: runbook,
      NOT_SERVED_LOG: notServedLog,
    },
    timeout: 60_000,
  });
}

describe('the runbooks, run as written against the local runtime', () => {
  it('runs every shell block of every runbook with Debian’s AWS CLI; what is not served is exactly the listed gaps', async () => {
    const notServedLog = join(work, 'not-served.log');
    writeFileSync(notServedLog, '');
    const runbooks = readdirSync(runbooksDir)
      .filter((name) => name.endsWith('.md'))
      .sort();
    let blocks = 0;
    const outputs = new Map<string, string>();
    for (const runbook of runbooks) {
      // One shell per runbook, as an operator runs its blocks one after another in one terminal (a later block uses
      // the variables an earlier one set).
      const own = shellBlocks(readFileSync(join(runbooksDir, runbook), 'utf8'));
      if (own.length === 0) continue;
      blocks += own.length;
      const script = own.join('\n');
      const { stdout } = await runBlock(runbook, script, notServedLog).catch((error: unknown) => {
        const failed = error as { stderr?: string; stdout?: string; message: string };
        throw new Error(
          `${runbook}: its commands failed:\n${script}\n--- stderr:\n${failed.stderr ?? failed.message}\n--- stdout:\n${failed.stdout ?? ''}`,
        );
      });
      outputs.set(runbook, stdout);
    }
    expect(blocks).toBeGreaterThanOrEqual(5);
    const notServed = readFileSync(notServedLog, 'utf8').trim().split('\n').filter(Boolean);
    expect([...new Set(notServed)].sort()).toEqual([...NOT_SERVED].sort());

    // What the blocks printed is the runtime's, not empty answers: the pipe paused through the ops API and the Pipes
    // API, the DLQ's attributes read through the stack's output, the table described through its output.
    const pipeName = runtime.info.resources.pipes.standard.name;
    expect(outputs.get('pipe-execution-failures.md')).toMatch(/"current": "STOPP(ING|ED)"/);
    expect(outputs.get('dlq-not-drained.md')).toContain('ApproximateNumberOfMessages');
    expect(outputs.get('pipe-stalled.md')).toContain(runtime.info.resources.ordersTable);
    // CloudTrail names who paused the pipe in pipe-execution-failures.md (the ops API's role, then the administrator).
    expect(outputs.get('pipe-stalled.md')).toMatch(/"call": "StopPipe"/);
    expect(runtime.pipes.get(pipeName)?.currentState).toMatch(/^STOPP/);
  }, 240_000);

  it("runs the README's function-logs commands as written", async () => {
    // Something to tail: the standard processor has run once.
    const lambda = new LambdaClient({
      region: runtime.info.region,
      endpoint: runtime.info.endpoints.lambda,
      credentials: LOCAL_CREDENTIALS,
    });
    try {
      await lambda.send(
        new InvokeCommand({ FunctionName: runtime.info.resources.pipes.standard.function, Payload: '[]' }),
      );
    } finally {
      lambda.destroy();
    }
    const stdout = await runReadmeBlock('LOGS="aws --endpoint-url', work);
    expect(stdout).toContain('ProcessorsOrderProcessorFunctionLogGroup');
    expect(stdout).toMatch(/START RequestId: [0-9a-f-]{36}/);
  }, 60_000);

  it("runs the README's SQS, Pipes and CloudFormation commands as written", async () => {
    const sqs = await runReadmeBlock('SQS="aws --endpoint-url', work);
    expect(sqs).toContain(runtime.info.resources.notificationQueueUrl);
    expect(sqs).toContain('"ApproximateNumberOfMessages"');
    const pipes = await runReadmeBlock('PIPES="aws --endpoint-url', work);
    expect(pipes).toContain(runtime.info.resources.pipes.standard.name);
    expect(pipes).toMatch(/"current": "STOPP(ING|ED)"/);
    expect(pipes).toContain('"timeout"');
    const cloudformation = await runReadmeBlock('CFN="aws --endpoint-url', work);
    expect(cloudformation.trim().split('\n')).toEqual([
      runtime.info.resources.pipes.standard.dlqUrl,
      runtime.info.resources.deadLetterTable,
    ]);
  }, 60_000);
});
