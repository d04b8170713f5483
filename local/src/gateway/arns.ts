import type { ArnScope } from './dynamodb.ts';

/**
 * The region DynamoDB Local writes into every ARN it returns (TableArn, LatestStreamArn, StreamArn, shard iterators),
 * whatever region a request is signed for, and the only one in which it finds a stream: DescribeStream of the same
 * ARN naming `us-east-1` answers "Requested resource not found: Stream: ... not found". Its account is always
 * 000000000000 (with `-sharedDb`), the runtime's account.
 */
export const DYNAMODB_LOCAL_REGION = 'ddblocal';
const LOCAL_PREFIX = `arn:aws:dynamodb:${DYNAMODB_LOCAL_REGION}:`;

/** DynamoDB Local's ARN (`arn:aws:dynamodb:ddblocal:...`) in `region`; any other string unchanged. */
export function awsShapedArn(arn: string, region: string): string {
  return arn.startsWith(LOCAL_PREFIX) ? `arn:aws:dynamodb:${region}:${arn.slice(LOCAL_PREFIX.length)}` : arn;
}

/**
 * The translation between DynamoDB Local's ARNs and the AWS-shaped ARNs the local runtime presents
 * (`arn:aws:dynamodb:<runtime region>:<account>:...`), as LocalStack does in front of the same DynamoDB Local
 * (localstack PRs #392, #987, #1585 for the ARNs it returns, #11887 for its error messages). Only the region differs; the account is kept (it is the runtime's in both), so
 * an ARN of another region or account is neither one's and is left as it is (DynamoDB Local does not find it, as AWS
 * would not). docs/ARCHITECTURE.md, "Local runtime".
 */
export class DynamoDbLocalArns {
  /** `arn:aws:dynamodb:ddblocal:` */
  private readonly local = LOCAL_PREFIX;
  /** `arn:aws:dynamodb:<region>:` */
  private readonly aws: string;
  /** The runtime's own ARNs: `arn:aws:dynamodb:<region>:<account>:`. */
  private readonly awsOwn: string;

  constructor(readonly scope: ArnScope) {
    this.aws = `arn:aws:dynamodb:${scope.region}:`;
    this.awsOwn = `${this.aws}${scope.account}:`;
  }

  /** DynamoDB Local's ARN as AWS shapes it (any other string unchanged). */
  toAws(arn: string): string {
    return arn.startsWith(this.local) ? this.aws + arn.slice(this.local.length) : arn;
  }

  /** An AWS-shaped ARN of the runtime's region and account as DynamoDB Local finds it (any other string unchanged). */
  toLocal(arn: string): string {
    return arn.startsWith(this.awsOwn) ? this.local + arn.slice(this.aws.length) : arn;
  }

  /** Every DynamoDB Local ARN in a response body (a table or stream description, a list of streams), AWS-shaped. */
  toAwsText(text: string): string {
    return text.includes(this.local) ? text.replaceAll(this.local, this.aws) : text;
  }
}
