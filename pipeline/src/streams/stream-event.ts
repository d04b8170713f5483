/** The `eventName` of a DynamoDB stream record. */
export const STREAM_EVENT_NAMES = ['INSERT', 'MODIFY', 'REMOVE'] as const;
export type StreamEventName = (typeof STREAM_EVENT_NAMES)[number];
