/**
 * An error of an AWS query-protocol service (SNS, CloudFormation): its code, message and HTTP status, answered as an
 * `ErrorResponse` document (`query-protocol.ts`, `xmlError`) with `Sender` for a 4xx and `Receiver` for a 5xx.
 */
export class QueryApiError extends Error {
  override readonly name: string = 'QueryApiError';
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }

  get senderFault(): boolean {
    return this.status < 500;
  }
}
