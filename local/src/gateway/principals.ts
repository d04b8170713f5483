import { randomBytes } from 'node:crypto';
import type { Principal } from '../iam/authorizer.ts';

/** The credentials a role's principal signs with locally, as `runtime.json` lists them under `principals`. */
export interface LocalCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Lambda hands its functions temporary credentials; the gateway identifies the caller by the access key alone. */
  readonly sessionToken: string;
}

/** A role of the template that acts locally, and who acts with it. */
export interface LocalRole {
  readonly logicalId: string;
  readonly roleArn: string;
  /** The session name in `assumed-role/ROLE/SESSION`: the function's name for an execution role, the pipe's name, ... */
  readonly sessionName: string;
}

export interface PrincipalEntry {
  readonly principal: Extract<Principal, { kind: 'role' }>;
  readonly credentials: LocalCredentials;
}

const ADMIN: Principal = { kind: 'admin' };
const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** `ASIA` + 16 characters, the shape of a temporary access key id (what a Lambda function or an assumed role gets). */
function accessKeyId(): string {
  const bytes = randomBytes(16);
  let id = 'ASIA';
  for (const byte of bytes) id += KEY_ALPHABET[byte % KEY_ALPHABET.length];
  return id;
}

/**
 * One access key per role of the template, random per start. A request signed with one of them acts as that role;
 * any other access key acts as the account's administrator (the CLI, demo traffic, tests), so existing tools keep
 * working. Signatures are not verified: the secret is handed out so that SDKs sign as usual.
 */
export class PrincipalDirectory {
  private readonly byAccessKey = new Map<string, PrincipalEntry>();
  private readonly byLogicalId = new Map<string, PrincipalEntry>();

  constructor(roles: readonly LocalRole[]) {
    for (const role of roles) {
      if (this.byLogicalId.has(role.logicalId))
        throw new Error(`role ${role.logicalId} is listed twice; each role of the template gets one access key`);
      const entry: PrincipalEntry = {
        principal: { kind: 'role', roleArn: role.roleArn, sessionName: role.sessionName, logicalId: role.logicalId },
        credentials: {
          accessKeyId: accessKeyId(),
          secretAccessKey: randomBytes(30).toString('base64'),
          sessionToken: randomBytes(48).toString('base64'),
        },
      };
      this.byAccessKey.set(entry.credentials.accessKeyId, entry);
      this.byLogicalId.set(role.logicalId, entry);
    }
  }

  /** The principal an access key acts as: its role, or the administrator for any key that is not a role's. */
  principalOf(accessKeyId: string): Principal {
    return this.byAccessKey.get(accessKeyId)?.principal ?? ADMIN;
  }

  /** The role with this logical id; throws naming it when the template has no such role. */
  role(logicalId: string): PrincipalEntry {
    const entry = this.byLogicalId.get(logicalId);
    if (!entry)
      throw new Error(
        `no role ${logicalId} in the template (roles: ${[...this.byLogicalId.keys()].join(', ') || 'none'})`,
      );
    return entry;
  }

  has(logicalId: string): boolean {
    return this.byLogicalId.has(logicalId);
  }

  get entries(): readonly PrincipalEntry[] {
    return [...this.byLogicalId.values()];
  }

  /** `runtime.json`'s `principals`: role logical id → role ARN and its keys. */
  toJSON(): Record<string, { roleArn: string; accessKeyId: string; secretAccessKey: string; sessionToken: string }> {
    return Object.fromEntries(
      this.entries.map((entry) => [
        entry.principal.logicalId,
        { roleArn: entry.principal.roleArn, ...entry.credentials },
      ]),
    );
  }
}

/** `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`, the identity AWS names in an access-denied message. */
export function assumedRoleArn(principal: Extract<Principal, { kind: 'role' }>): string {
  const [, , , , account = '', resource = ''] = principal.roleArn.split(':');
  const roleName = resource.slice(resource.lastIndexOf('/') + 1);
  return `arn:aws:sts::${account}:assumed-role/${roleName}/${principal.sessionName}`;
}

/** How a principal is named in the denials log. */
export function describePrincipal(principal: Principal): string {
  if (principal.kind === 'role') return assumedRoleArn(principal);
  if (principal.kind === 'service') return principal.service;
  return 'admin';
}
