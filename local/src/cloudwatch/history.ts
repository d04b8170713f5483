/**
 * Alarm history as DescribeAlarmHistory returns it: one item per configuration update, state change and executed (or
 * failed) action, newest first by default
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html,
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_AlarmHistoryItem.html). The operation itself
 * is protocol-independent: inputs and outputs are plain values, timestamps as epoch milliseconds.
 */

export type AlarmType = 'MetricAlarm' | 'CompositeAlarm';
export type HistoryItemType = 'ConfigurationUpdate' | 'StateUpdate' | 'Action';

export const HISTORY_ITEM_TYPES: readonly HistoryItemType[] = ['ConfigurationUpdate', 'StateUpdate', 'Action'];
export const ALARM_TYPES: readonly AlarmType[] = ['MetricAlarm', 'CompositeAlarm'];

export interface AlarmHistoryItem {
  readonly alarmName: string;
  readonly alarmType: AlarmType;
  /** Epoch ms. */
  readonly timestamp: number;
  readonly historyItemType: HistoryItemType;
  /** At most 255 characters (the API's limit), e.g. `Alarm updated from OK to ALARM`. */
  readonly summary: string;
  /** JSON, at most 4,095 characters (the API's limit). */
  readonly data: string;
}

export interface AlarmHistoryQuery {
  readonly alarmName?: string;
  /** Default: metric alarms only ("If you omit this parameter, only metric alarms are returned"). */
  readonly alarmTypes?: readonly AlarmType[];
  readonly historyItemType?: HistoryItemType;
  /** Epoch ms, inclusive. */
  readonly startDate?: number;
  /** Epoch ms, inclusive. */
  readonly endDate?: number;
  /** 1..100, default 100. */
  readonly maxRecords?: number;
  readonly nextToken?: string;
  readonly ascending?: boolean;
}

export class AlarmHistoryError extends Error {
  override readonly name = 'AlarmHistoryError';
  constructor(
    /** The API's error code: `InvalidNextToken` or `InvalidParameterValue`. */
    readonly code: 'InvalidNextToken' | 'InvalidParameterValue',
    message: string,
  ) {
    super(message);
  }
}

/** The API's length limits (AlarmHistoryItem: HistorySummary 1..255, HistoryData 1..4095). */
export const HISTORY_SUMMARY_MAX = 255;
export const HISTORY_DATA_MAX = 4095;

/** CloudWatch keeps alarm history for 30 days; locally the most recent items, up to this many, are kept. */
const KEPT_ITEMS = 10_000;

interface StoredItem extends AlarmHistoryItem {
  readonly seq: number;
}

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 3)}...`);

export class AlarmHistory {
  private items: StoredItem[] = [];
  private seq = 0;

  record(item: AlarmHistoryItem): void {
    this.items.push({
      ...item,
      summary: clip(item.summary, HISTORY_SUMMARY_MAX),
      data: clip(item.data, HISTORY_DATA_MAX),
      seq: ++this.seq,
    });
    if (this.items.length > KEPT_ITEMS) this.items = this.items.slice(this.items.length - KEPT_ITEMS);
  }

  /** Every kept item, oldest first (for tests and the runtime). */
  all(): readonly AlarmHistoryItem[] {
    return this.items.map(({ seq: _, ...item }) => item);
  }

  query(query: AlarmHistoryQuery = {}): { items: AlarmHistoryItem[]; nextToken?: string } {
    const max = query.maxRecords ?? 100;
    if (!Number.isInteger(max) || max < 1 || max > 100)
      throw new AlarmHistoryError(
        'InvalidParameterValue',
        `The parameter MaxRecords must be an integer from 1 to 100, got ${JSON.stringify(query.maxRecords)}.`,
      );
    const types = query.alarmTypes ?? ['MetricAlarm'];
    const ascending = query.ascending ?? false;
    let after: number | undefined;
    if (query.nextToken !== undefined) {
      after = decodeToken(query.nextToken, ascending);
      if (after === undefined)
        throw new AlarmHistoryError('InvalidNextToken', `The parameter NextToken is not a token this service issued.`);
    }
    const matches = (item: StoredItem) =>
      (query.alarmName === undefined || item.alarmName === query.alarmName) &&
      types.includes(item.alarmType) &&
      (query.historyItemType === undefined || item.historyItemType === query.historyItemType) &&
      (query.startDate === undefined || item.timestamp >= query.startDate) &&
      (query.endDate === undefined || item.timestamp <= query.endDate) &&
      (after === undefined || (ascending ? item.seq > after : item.seq < after));
    const ordered = ascending ? this.items : [...this.items].reverse();
    const page: StoredItem[] = [];
    let more = false;
    for (const item of ordered) {
      if (!matches(item)) continue;
      if (page.length === max) {
        more = true;
        break;
      }
      page.push(item);
    }
    const last = page.at(-1);
    return {
      items: page.map(({ seq: _, ...item }) => item),
      ...(more && last ? { nextToken: encodeToken(last.seq, ascending) } : {}),
    };
  }
}

/** An opaque token naming the last item returned and the direction it was read in. */
function encodeToken(seq: number, ascending: boolean): string {
  return Buffer.from(`history:${ascending ? 'a' : 'd'}:${seq}`, 'utf8').toString('base64url');
}

function decodeToken(token: string, ascending: boolean): number | undefined {
  const match = /^history:([ad]):(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!match || (match[1] === 'a') !== ascending) return undefined;
  return Number(match[2]);
}
