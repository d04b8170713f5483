import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { StreamsApi } from '@orderflow/local';
import type { StreamRecord } from '@orderflow/pipeline/schemas';

/** Every record the table's stream holds, shard by shard from TRIM_HORIZON: the ground truth of what changed. */
export async function readWholeStream(
  client: DynamoDBClient,
  endpoint: string,
  tableName: string,
  region: string,
): Promise<Omit<StreamRecord, 'eventSourceARN'>[]> {
  const table = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const streamArn = table.Table?.LatestStreamArn;
  if (!streamArn) throw new Error(`table ${tableName} has no stream`);
  const streams = new StreamsApi(endpoint, region);
  const all: Omit<StreamRecord, 'eventSourceARN'>[] = [];
  for (const shard of await streams.listShards(streamArn)) {
    let iterator: string | undefined = await streams.shardIterator(streamArn, shard.ShardId, 'TRIM_HORIZON');
    while (iterator) {
      const { records, next } = await streams.records(iterator);
      all.push(...records);
      // An open shard always hands back a next iterator; an empty page means this shard is read to its end.
      if (records.length === 0) break;
      iterator = next;
    }
  }
  return all;
}
