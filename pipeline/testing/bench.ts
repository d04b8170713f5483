/**
 * Benchmark support shared by the benches of every package: the same seeded stream records and the same way of
 * timing them, so that figures from different benches compare.
 */

/**
 * A bench's size from the environment (`BENCH_ORDERS=...`): a whole number of at least 1, `fallback` when unset;
 * anything else stops the bench with a message naming the variable, rather than running with NaN.
 */
export function positiveIntegerFromEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a whole number of at least 1, got '${text}'`);
  return value;
}

/** mulberry32: a small seeded PRNG, so every run measures the same records. */
export function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SyntheticStreamOptions {
  readonly count: number;
  readonly seed: number;
  /** `ApproximateCreationDateTime` of the first record (epoch seconds); each next one is a second later. */
  readonly firstEpochSeconds: number;
  /** The stream ARN the records name (`eventSourceARN`). */
  readonly streamArn: string;
}

/**
 * Order-table stream records as Pipes delivers them (40 % INSERT, 45 % MODIFY, 15 % REMOVE; statuses, amounts 0-2000
 * and e-mail domains, `test.com` among them, drawn from the seed), for throughput benches of the pattern engine.
 */
export function syntheticStreamRecords(options: SyntheticStreamOptions): Record<string, unknown>[] {
  const random = prng(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const statuses = ['pending', 'shipped', 'delivered', 'cancelled'] as const;
  const domains = ['example.com', 'mail.example.org', 'test.com', 'corp.test.com', 'shop.example.net'] as const;
  const firstDay = new Date(options.firstEpochSeconds * 1000);
  const image = (orderId: string, status: string) => ({
    orderId: { S: orderId },
    customerEmail: { S: `c${Math.floor(random() * 5000)}@${pick(domains)}` },
    orderAmount: { N: (random() * 2000).toFixed(2) },
    orderStatus: { S: status },
    orderDate: {
      S: new Date(firstDay.getTime() + Math.floor(random() * 3e10)).toISOString().slice(0, 10),
    },
  });
  return Array.from({ length: options.count }, (_, i) => {
    const roll = random();
    const eventName = roll < 0.4 ? 'INSERT' : roll < 0.85 ? 'MODIFY' : 'REMOVE';
    const orderId = `ord-${String(i).padStart(8, '0')}`;
    const newImage = eventName === 'REMOVE' ? undefined : image(orderId, pick(statuses));
    const oldImage = eventName === 'INSERT' ? undefined : image(orderId, pick(statuses));
    return {
      eventID: `${i.toString(16).padStart(8, '0')}c4ca4238a0b923820dcc509a`,
      eventName,
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: options.streamArn.split(':')[3] ?? 'us-east-1',
      dynamodb: {
        ApproximateCreationDateTime: options.firstEpochSeconds + i,
        Keys: { orderId: { S: orderId } },
        ...(newImage && { NewImage: newImage }),
        ...(oldImage && { OldImage: oldImage }),
        SequenceNumber: String(100000000000000000000 + i * 100),
        SizeBytes: 180 + Math.floor(random() * 120),
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
      eventSourceARN: options.streamArn,
    };
  });
}

export interface BurstRate {
  /** The fastest burst: the least disturbed by the neighbours on a shared machine. */
  readonly best: number;
  readonly median: number;
}

/**
 * Operations per second of `run(i)` over inputs `0..count-1`. The machines this runs on are shared, so one long timing
 * mostly measures the neighbours: after a warm-up pass, the inputs run in 15 bursts of at least 100 ms each, and both
 * the best burst and the median are reported.
 */
export function bursts(count: number, run: (i: number) => void): BurstRate {
  for (let i = 0; i < count; i++) run(i);
  const rates: number[] = [];
  let i = 0;
  for (let burst = 0; burst < 15; burst++) {
    let done = 0;
    const start = performance.now();
    let elapsed = 0;
    do {
      for (let n = 0; n < 1000; n++, i = (i + 1) % count) run(i);
      done += 1000;
      elapsed = performance.now() - start;
    } while (elapsed < 100);
    rates.push(done / (elapsed / 1000));
  }
  rates.sort((a, b) => a - b);
  return { best: Math.round(rates.at(-1) ?? 0), median: Math.round(rates[7] ?? 0) };
}
