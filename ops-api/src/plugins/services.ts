import { PIPE_KEYS, type PipeKey } from '@orderflow/pipeline/facts';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { AwsClients } from '../clients.ts';
import type { OpsApiConfig } from '../config.ts';
import { AlarmReader } from '../services/alarms.ts';
import { AuditLog } from '../services/audit-log.ts';
import { DeadLetterReader } from '../services/dead-letters.ts';
import { DlqBrowser } from '../services/dlq-browser.ts';
import { TableDlqChanges } from '../services/dlq-changes.ts';
import { DlqOrigin } from '../services/dlq-origin.ts';
import { DlqQueue } from '../services/dlq-queue.ts';
import { FilterLab } from '../services/filter-lab.ts';
import { FilterMetrics } from '../services/filter-metrics.ts';
import { ImpactService, impactJobStore } from '../services/impact.ts';
import { StreamScanner } from '../services/impact-stream.ts';
import { LambdaEventLauncher } from '../services/job-launcher.ts';
import { JobStore } from '../services/job-store.ts';
import { JournalReader } from '../services/journal.ts';
import { RedriveLeases } from '../services/leases.ts';
import { LocalRecords } from '../services/local-records.ts';
import { PipeControl } from '../services/pipe-control.ts';
import { OldestMessageAge } from '../services/queue-age.ts';
import { RecordState } from '../services/record-state.ts';
import { RedriveService } from '../services/redrive.ts';
import { TableStreamReadGate } from '../services/stream-gate.ts';
import { StreamReader } from '../services/stream-reader.ts';

export interface OpsServices {
  readonly config: OpsApiConfig;
  readonly browser: DlqBrowser;
  readonly redrive: RedriveService;
  readonly audit: AuditLog;
  readonly alarms: AlarmReader;
  readonly metrics: FilterMetrics;
  readonly lab: FilterLab;
  readonly queue: DlqQueue;
  /** The local runtime's denials and outbox; `available: false` in AWS. */
  readonly local: LocalRecords;
  /** Pausing and resuming the pipes (StopPipe, StartPipe), and their state (DescribePipe). */
  readonly pipes: PipeControl;
  /** Rule impact previews (`POST /api/filters/impact`). */
  readonly impact: ImpactService;
  /** The dead-letter store, read only (`/api/dead-letters`). */
  readonly deadLetters: DeadLetterReader;
}

declare module 'fastify' {
  interface FastifyInstance {
    ops: OpsServices;
  }
}

export interface ServicesOptions {
  readonly config: OpsApiConfig;
  readonly clients: AwsClients;
  /** Destroy the clients when the app closes (they were created for it). */
  readonly destroyClients: boolean;
}

function requiredSelfName(config: OpsApiConfig): string {
  if (!config.selfFunctionName) throw new Error("jobExecution 'lambda-event' needs the function's own name");
  return config.selfFunctionName;
}

function perPipe<T>(fn: (pipe: PipeKey) => T): Record<PipeKey, T> {
  return Object.fromEntries(PIPE_KEYS.map((pipe) => [pipe, fn(pipe)])) as Record<PipeKey, T>;
}

/** The app's services, decorated as `app.ops`, built once over one set of AWS SDK clients. */
export default fp(
  async (app: FastifyInstance, options: ServicesOptions) => {
    const { config } = options;
    const { clients } = options;
    const queueUrls = perPipe((pipe) => config.pipes[pipe].dlqUrl);
    const queue = new DlqQueue(clients.sqs, queueUrls);
    const journal = new JournalReader(clients.dynamodb, config.tables.journal);
    const state = new RecordState(clients.dynamodb, config.tables);
    const lab = new FilterLab();
    const origin = new DlqOrigin({
      region: config.region,
      // Local mode also serves tests over DynamoDB Local without the runtime's gateway, whose ARNs name `ddblocal`;
      // the local runtime itself presents AWS-shaped ARNs (its gateway), which the API as deployed checks in full.
      streamRegion: config.mode === 'aws' ? config.region : undefined,
      ordersTable: config.tables.orders,
      pipeNames: perPipe((pipe) => config.pipes[pipe].pipeName),
      dlqUrls: queueUrls,
    });
    const dlqNames = perPipe((pipe) => config.pipes[pipe].dlqUrl.slice(config.pipes[pipe].dlqUrl.lastIndexOf('/') + 1));
    // One read gate for every reader of the stream in this process (DLQ messages, redrives, impact previews).
    const streamGate = new TableStreamReadGate(clients.dynamodb, config.tables.jobs);
    const browser = new DlqBrowser(
      queue,
      new StreamReader(clients.streams, streamGate),
      journal,
      state,
      lab,
      queueUrls,
      origin,
      new OldestMessageAge(clients.cloudwatch, dlqNames),
      {
        changes: new TableDlqChanges(clients.dynamodb, config.tables.jobs),
        ...(config.viewMinIntervalMs === undefined ? {} : { viewMinIntervalMs: config.viewMinIntervalMs }),
      },
    );
    const audit = new AuditLog(clients.dynamodb, config.tables.audit);
    const redrive = new RedriveService({
      queue,
      browser,
      journal,
      state,
      leases: new RedriveLeases(clients.dynamodb, config.tables.jobs),
      jobs: new JobStore(clients.dynamodb, config.tables.jobs),
      audit,
      lambda: clients.lambda,
      functionNames: perPipe((pipe) => config.pipes[pipe].functionName),
      ...(config.jobExecution === 'lambda-event'
        ? { launcher: new LambdaEventLauncher(clients.lambda, requiredSelfName(config)) }
        : {}),
    });
    const impact = new ImpactService({
      jobs: impactJobStore(clients.dynamodb, config.tables.jobs),
      scanner: new StreamScanner(clients.streams, clients.dynamodb, config.tables.orders, streamGate),
      browser,
      journal,
      ...(config.jobExecution === 'lambda-event'
        ? { launcher: new LambdaEventLauncher(clients.lambda, requiredSelfName(config), 'orderflowImpactJob') }
        : {}),
    });
    app.decorate('ops', {
      config,
      browser,
      redrive,
      audit,
      alarms: new AlarmReader(clients.cloudwatch, config),
      metrics: new FilterMetrics(clients.cloudwatch, {
        mode: config.mode,
        ordersTable: config.tables.orders,
        dlqNames,
      }),
      lab,
      queue,
      local: new LocalRecords(config.localRuntime),
      pipes: new PipeControl(
        clients.pipes,
        audit,
        perPipe((pipe) => config.pipes[pipe].pipeName),
      ),
      impact,
      deadLetters: new DeadLetterReader(clients.dynamodb, config.tables.deadLetters),
    });
    app.addHook('onClose', async () => {
      // Let running redrive jobs stop between messages: whatever they had not finished stays in the DLQ.
      await Promise.all([redrive.drain(), impact.drain()]);
      if (options.destroyClients) clients.destroy();
    });
  },
  { name: 'ops-services' },
);
