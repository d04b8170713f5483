/** IPv4/IPv6 addresses and CIDR blocks for `IpAddress`/`NotIpAddress` (RFC 4632 notation, as IAM takes it). */

export interface IpBlock {
  readonly version: 4 | 6;
  readonly network: bigint;
  readonly prefix: number;
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseIpv6(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string | undefined): string[] => (half ? half.split(':') : []);
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  // An embedded IPv4 address at the end counts as two groups.
  const last = (halves.length === 2 ? tail : head).at(-1);
  const embedded = last?.includes('.') ? parseIpv4(last) : undefined;
  if (last?.includes('.') && embedded === undefined) return undefined;
  const list = halves.length === 2 ? tail : head;
  if (embedded !== undefined)
    list.splice(-1, 1, ((embedded >> 16n) & 0xffffn).toString(16), (embedded & 0xffffn).toString(16));
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  let value = 0n;
  for (const group of [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail]) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
    value = (value << 16n) | BigInt(Number.parseInt(group, 16));
  }
  return value;
}

export function parseIp(text: string): { version: 4 | 6; value: bigint } | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { version: 4, value: v4 };
  const v6 = parseIpv6(text);
  return v6 === undefined ? undefined : { version: 6, value: v6 };
}

/** `203.0.113.0/24`, `2001:db8::/32`, or a single address (a /32 or /128 block). */
export function parseCidr(text: string): IpBlock | undefined {
  const [address, prefixText, extra] = text.trim().split('/');
  if (address === undefined || extra !== undefined) return undefined;
  const ip = parseIp(address);
  if (!ip) return undefined;
  const bits = ip.version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) return undefined;
  const mask = ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
  return { version: ip.version, network: ip.value & mask, prefix };
}

export function ipInBlock(text: string, block: IpBlock): boolean {
  const ip = parseIp(text.trim());
  if (!ip || ip.version !== block.version) return false;
  const bits = block.version === 4 ? 32 : 128;
  const mask = ((1n << BigInt(block.prefix)) - 1n) << BigInt(bits - block.prefix);
  return (ip.value & mask) === block.network;
}
