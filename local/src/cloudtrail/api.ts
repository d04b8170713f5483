import type { IncomingMessage, ServerResponse } from 'node:http';
import { authorizeCall, JsonServiceError, type JsonServiceGate, serveJsonRequest } from '../services/json-service.ts';
import type { ManagementTrail, TrailEvent } from './trail.ts';

/**
 * CloudTrail's LookupEvents over the runtime's management trail (`trail.ts`), what `aws cloudtrail lookup-events`
 * calls. AWS JSON 1.1, as botocore's `cloudtrail/2013-11-01` model speaks it (`"protocol": "json"`, target prefix
 * `com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101`), served on the CloudWatch endpoint beside CloudWatch and
 * CloudWatch Logs. Input rules and error codes from the CloudTrail API reference, LookupEvents: at most one lookup
 * attribute, MaxResults 1-50 (default 50), StartTime not after EndTime.
 */
export const CLOUDTRAIL_TARGET_PREFIX = 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.';

const ATTRIBUTE_KEYS = {
  EventId: (event: TrailEvent) => [event.EventId],
  EventName: (event: TrailEvent) => [event.EventName],
  ReadOnly: (event: TrailEvent) => [event.ReadOnly],
  Username: (event: TrailEvent) => [event.Username],
  ResourceType: (event: TrailEvent) => event.Resources.map((resource) => resource.ResourceType),
  ResourceName: (event: TrailEvent) => event.Resources.map((resource) => resource.ResourceName),
  EventSource: (event: TrailEvent) => [event.EventSource],
  AccessKeyId: (event: TrailEvent) => (event.AccessKeyId ? [event.AccessKeyId] : []),
} as const satisfies Record<string, (event: TrailEvent) => string[]>;

const MAX_RESULTS = 50;

export interface CloudTrailApiContext {
  readonly trail: ManagementTrail;
  readonly gate?: JsonServiceGate;
}

type Input = Record<string, unknown>;

/** A JSON 1.1 timestamp: epoch seconds (a number), as the SDKs send it. */
function time(input: Input, name: string): number | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new JsonServiceError('InvalidParameterException', `${name} must be a timestamp (epoch seconds)`);
  return value * 1000;
}

function lookupEvents(ctx: CloudTrailApiContext, input: Input, request: IncomingMessage) {
  // LookupEvents has no resource type (Service Authorization Reference for CloudTrail).
  authorizeCall(ctx.gate, request, 'cloudtrail:LookupEvents', '*');
  const attributes = input.LookupAttributes ?? [];
  if (!Array.isArray(attributes) || attributes.length > 1)
    throw new JsonServiceError(
      'InvalidLookupAttributesException',
      'LookupAttributes takes at most one attribute (CloudTrail LookupEvents)',
    );
  let matches: (event: TrailEvent) => boolean = () => true;
  const [attribute] = attributes as { AttributeKey?: unknown; AttributeValue?: unknown }[];
  if (attribute) {
    const key = String(attribute.AttributeKey);
    const values = Object.hasOwn(ATTRIBUTE_KEYS, key) ? ATTRIBUTE_KEYS[key as keyof typeof ATTRIBUTE_KEYS] : undefined;
    if (!values || typeof attribute.AttributeValue !== 'string' || attribute.AttributeValue === '')
      throw new JsonServiceError(
        'InvalidLookupAttributesException',
        `LookupAttributes: AttributeKey must be one of ${Object.keys(ATTRIBUTE_KEYS).join(', ')}, with a non-empty AttributeValue`,
      );
    const wanted = attribute.AttributeValue;
    matches = (event) => values(event).includes(wanted);
  }
  const start = time(input, 'StartTime');
  const end = time(input, 'EndTime');
  if (start !== undefined && end !== undefined && start > end)
    throw new JsonServiceError('InvalidTimeRangeException', 'StartTime must not be after EndTime');
  const category = input.EventCategory;
  if (category !== undefined && category !== 'insight')
    throw new JsonServiceError('InvalidEventCategoryException', 'EventCategory must be insight');
  const max = input.MaxResults ?? MAX_RESULTS;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > MAX_RESULTS)
    throw new JsonServiceError('InvalidMaxResultsException', `MaxResults must be 1 to ${MAX_RESULTS}`);
  let from = 0;
  if (input.NextToken !== undefined) {
    from = Number(Buffer.from(String(input.NextToken), 'base64url').toString('utf8'));
    if (!Number.isInteger(from) || from < 0)
      throw new JsonServiceError('InvalidNextTokenException', 'The NextToken is not one this API returned');
  }
  // Insight events are not recorded locally: a lookup of them finds none.
  const all =
    category === 'insight'
      ? []
      : ctx.trail
          .newestFirst()
          .filter(
            (event) =>
              matches(event) &&
              (start === undefined || event.EventTime >= start) &&
              (end === undefined || event.EventTime <= end),
          );
  const page = all.slice(from, from + max);
  return {
    Events: page.map((event) => ({ ...event, EventTime: event.EventTime / 1000 })),
    ...(from + max < all.length ? { NextToken: Buffer.from(String(from + max), 'utf8').toString('base64url') } : {}),
  };
}

/** Serves one CloudTrail request (its `X-Amz-Target` starts with {@link CLOUDTRAIL_TARGET_PREFIX}). */
export function handleCloudTrailRequest(
  ctx: CloudTrailApiContext,
  request: IncomingMessage,
  response: ServerResponse,
  requestId: string,
): Promise<void> {
  return serveJsonRequest(
    { name: 'CloudTrail', targetPrefix: CLOUDTRAIL_TARGET_PREFIX, operations: { LookupEvents: lookupEvents } },
    ctx,
    request,
    response,
    requestId,
  );
}
