import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { PrincipalDirectory } from '../gateway/principals.ts';
import { assumedRoleArn } from '../gateway/principals.ts';
import { credentialOf } from '../gateway/sigv4.ts';

/**
 * The management events of the control-plane calls the runtime serves that change something (the Pipes API's
 * StopPipe and StartPipe, the Lambda API's UpdateEventSourceMapping), recorded as CloudTrail records them, so that an
 * on-call engineer can ask who paused a pipe (`aws cloudtrail lookup-events`, docs/runbooks/pipe-stalled.md) and get
 * the same answer locally. Read-only calls, data events and the other services are not recorded (a gap,
 * docs/ARCHITECTURE.md). The most recent {@link TRAIL_EVENTS_KEPT} events are kept in memory.
 */
export const TRAIL_EVENTS_KEPT = 10_000;

export interface TrailResource {
  /** CloudFormation-style type, as CloudTrail names resources (`AWS::Pipes::Pipe`). */
  readonly ResourceType: string;
  readonly ResourceName: string;
}

export interface TrailEvent {
  readonly EventId: string;
  readonly EventName: string;
  readonly ReadOnly: 'true' | 'false';
  readonly AccessKeyId?: string;
  /** Milliseconds since the epoch. */
  readonly EventTime: number;
  readonly EventSource: string;
  readonly Username: string;
  readonly Resources: readonly TrailResource[];
  /** The CloudTrail record (JSON): eventVersion, userIdentity, eventTime, eventSource, eventName, ... */
  readonly CloudTrailEvent: string;
}

export interface ManagementCall {
  readonly request: IncomingMessage;
  readonly eventSource: string;
  readonly eventName: string;
  readonly resources: readonly TrailResource[];
  readonly requestParameters: Readonly<Record<string, unknown>>;
}

export class ManagementTrail {
  private readonly events: TrailEvent[] = [];

  constructor(
    private readonly scope: { readonly region: string; readonly account: string },
    /** Who holds which key; undefined with `--iam off`, where every key acts as the administrator. */
    private readonly principals: PrincipalDirectory | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** One successful call, made with the request's SigV4 credential. */
  record(call: ManagementCall): void {
    const accessKeyId = credentialOf(call.request.headers.authorization, call.request.url)?.accessKeyId;
    const principal = accessKeyId ? this.principals?.principalOf(accessKeyId) : undefined;
    const { account, region } = this.scope;
    // userIdentity as CloudTrail writes it for an assumed role's session, and for the account's own credentials.
    const identity =
      principal?.kind === 'role'
        ? {
            username: principal.sessionName,
            userIdentity: {
              type: 'AssumedRole',
              arn: assumedRoleArn(principal),
              accountId: account,
              ...(accessKeyId ? { accessKeyId } : {}),
              sessionContext: { sessionIssuer: { type: 'Role', arn: principal.roleArn, accountId: account } },
            },
          }
        : {
            username: 'root',
            userIdentity: {
              type: 'Root',
              arn: `arn:aws:iam::${account}:root`,
              accountId: account,
              ...(accessKeyId ? { accessKeyId } : {}),
            },
          };
    const time = this.now();
    const eventId = randomUUID();
    this.events.push({
      EventId: eventId,
      EventName: call.eventName,
      ReadOnly: 'false',
      ...(accessKeyId ? { AccessKeyId: accessKeyId } : {}),
      EventTime: time,
      EventSource: call.eventSource,
      Username: identity.username,
      Resources: call.resources,
      CloudTrailEvent: JSON.stringify({
        eventVersion: '1.09',
        userIdentity: identity.userIdentity,
        eventTime: new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        eventSource: call.eventSource,
        eventName: call.eventName,
        awsRegion: region,
        sourceIPAddress: call.request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: String(call.request.headers['user-agent'] ?? ''),
        requestParameters: call.requestParameters,
        responseElements: null,
        eventID: eventId,
        readOnly: false,
        eventType: 'AwsApiCall',
        managementEvent: true,
        recipientAccountId: account,
        eventCategory: 'Management',
      }),
    });
    if (this.events.length > TRAIL_EVENTS_KEPT) this.events.splice(0, this.events.length - TRAIL_EVENTS_KEPT);
  }

  /** Events newest first (LookupEvents' order). */
  newestFirst(): readonly TrailEvent[] {
    return [...this.events].reverse();
  }
}
