import type { PutMetric } from '../cloudwatch/metric-store.ts';

/**
 * Reads one log line in CloudWatch Embedded Metric Format (what Powertools Metrics prints) into metric samples; any
 * other line yields nothing. Every dimension set of a directive gets every metric of that directive.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
export function parseEmfLine(line: string): PutMetric[] {
  const start = line.indexOf('{"');
  if (start === -1 || !line.includes('"_aws"')) return [];
  let document: Record<string, unknown>;
  try {
    document = JSON.parse(line.slice(start)) as Record<string, unknown>;
  } catch {
    return [];
  }
  const meta = document._aws as
    | {
        Timestamp?: number;
        CloudWatchMetrics?: {
          Namespace: string;
          Dimensions?: string[][];
          Metrics?: { Name: string; Unit?: string }[];
        }[];
      }
    | undefined;
  if (!meta?.CloudWatchMetrics) return [];
  const timestamp = typeof meta.Timestamp === 'number' ? meta.Timestamp : Date.now();
  const out: PutMetric[] = [];
  for (const directive of meta.CloudWatchMetrics) {
    const dimensionSets = directive.Dimensions?.length ? directive.Dimensions : [[]];
    for (const set of dimensionSets) {
      const dimensions = set.map((name) => ({ Name: name, Value: String(document[name] ?? '') }));
      for (const metric of directive.Metrics ?? []) {
        const raw = document[metric.Name];
        const values = Array.isArray(raw) ? raw : [raw];
        for (const value of values) {
          if (typeof value !== 'number') continue;
          out.push({
            namespace: directive.Namespace,
            metricName: metric.Name,
            dimensions,
            value,
            timestamp,
            ...(metric.Unit ? { unit: metric.Unit } : {}),
          });
        }
      }
    }
  }
  return out;
}
