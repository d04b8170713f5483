import { type CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { type PipeKey, SQS_METRICS, SQS_NAMESPACE } from '@orderflow/pipeline/facts';
import { SwrCache } from './swr-cache.ts';

/** SQS publishes queue metrics once a minute; reading more often only costs calls. */
const AGE_TTL_MS = 60_000;
/** How far back to look for the latest datapoint (SQS metrics arrive a few minutes late). */
const LOOKBACK_MS = 15 * 60_000;
const METRIC_NAME = SQS_METRICS.ageOfOldestMessage;

/**
 * The age of a DLQ's oldest message, as CloudWatch reports it (`AWS/SQS` `ApproximateAgeOfOldestMessage`, the figure
 * the `dlq-oldest-message-age` alarm evaluates), so that showing it receives no message: SQS has no queue attribute
 * for it, and finding it by receiving every message is what blinded the alarm (docs/AWS-FACTS.md, fact 13).
 * `null` when CloudWatch has no recent datapoint or cannot be read (the counts stay exact either way).
 */
export class OldestMessageAge {
  private readonly cache = new SwrCache<PipeKey, number | null>(AGE_TTL_MS, 2 * AGE_TTL_MS);

  constructor(
    private readonly cloudwatch: CloudWatchClient,
    private readonly queueNames: Readonly<Record<PipeKey, string>>,
  ) {}

  seconds(pipe: PipeKey): Promise<number | null> {
    return this.cache.get(pipe, () => this.read(pipe).catch(() => null));
  }

  private async read(pipe: PipeKey): Promise<number | null> {
    const now = Date.now();
    const answer = await this.cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(now - LOOKBACK_MS),
        EndTime: new Date(now),
        ScanBy: 'TimestampDescending',
        MetricDataQueries: [
          {
            Id: 'age',
            MetricStat: {
              Metric: {
                Namespace: SQS_NAMESPACE,
                MetricName: METRIC_NAME,
                Dimensions: [{ Name: 'QueueName', Value: this.queueNames[pipe] }],
              },
              Period: 60,
              Stat: 'Maximum',
            },
          },
        ],
      }),
    );
    const result = answer.MetricDataResults?.find((candidate) => candidate.Id === 'age');
    const points = (result?.Timestamps ?? []).map((timestamp, index) => ({
      at: new Date(timestamp).getTime(),
      value: result?.Values?.[index],
    }));
    const latest = points.filter((point) => typeof point.value === 'number').sort((a, b) => b.at - a.at)[0];
    return latest ? Math.max(0, Math.round(latest.value as number)) : null;
  }
}
