/**
 * IP literals as aws/event-ruler reads them (`CIDR.java`): a string is an IP candidate only when it matches
 * `[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+` or `[0-9a-fA-F:]*:[0-9a-fA-F:]*`, and is then parsed as Java's
 * `InetAddress.getByName` would (IPv4-mapped IPv6 addresses become IPv4). The result is the address in hex, 8 digits
 * for IPv4 and 32 for IPv6, so equal addresses spelled differently compare equal and ranges compare as strings.
 */
const IPV4_SHAPE = /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/;
const IPV6_SHAPE = /^[0-9a-fA-F:]*:[0-9a-fA-F:]*$/;

export function looksLikeIp(text: string): boolean {
  return IPV4_SHAPE.test(text) || IPV6_SHAPE.test(text);
}

/** The address as hex digits (uppercase), or undefined when `text` is not an IP literal. */
export function ipToHex(text: string): string | undefined {
  const bytes = ipBytes(text);
  return bytes && toHex(bytes);
}

export function ipBytes(text: string): number[] | undefined {
  if (IPV4_SHAPE.test(text)) return ipv4Bytes(text);
  if (IPV6_SHAPE.test(text)) return ipv6Bytes(text);
  return undefined;
}

function ipv4Bytes(text: string): number[] | undefined {
  const bytes = text.split('.').map(Number);
  return bytes.every((b) => b <= 255) ? bytes : undefined;
}

function ipv6Bytes(text: string): number[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (part: string | undefined): number[] | undefined => {
    if (part === undefined || part === '') return [];
    const groups = part.split(':');
    if (groups.some((g) => g.length === 0 || g.length > 4)) return undefined;
    return groups.map((g) => Number.parseInt(g, 16));
  };
  const head = groupsOf(halves[0]);
  const tail = groupsOf(halves[1]);
  if (!head || !tail) return undefined;
  const compressed = halves.length === 2;
  const missing = 8 - head.length - tail.length;
  if (compressed ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const bytes = groups.flatMap((g) => [g >> 8, g & 0xff]);
  // Java's InetAddress turns ::ffff:a.b.c.d (written in hex here) into the IPv4 address a.b.c.d.
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? bytes.slice(12) : bytes;
}

function toHex(bytes: number[]): string {
  return bytes
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('')
    .toUpperCase();
}

export interface CidrRange {
  /** Hex of the network address: every host bit cleared, so `10.0.0.5/24` starts at 10.0.0.0. */
  readonly bottom: string;
  /** Hex of the address with every host bit set. */
  readonly top: string;
}

/** Parses `a.b.c.d/n` or `x::y/n` with event-ruler's rules and messages; returns the range or the AWS reason. */
export function parseCidr(text: string): CidrRange | string {
  const parts = text.includes('/') ? text.split('/') : [text];
  // Java's String.split drops trailing empty strings.
  while (text.includes('/') && parts.at(-1) === '') parts.pop();
  if (parts.length !== 2) return "Malformed CIDR, one '/' required";
  const [address = '', maskText = ''] = parts;
  const maskBits = Number(maskText);
  // Java's Integer.parseInt: an optional sign, decimal digits, within 32-bit range.
  if (!/^[+-]?\d+$/.test(maskText) || maskBits > 2147483647 || maskBits < -2147483648) {
    return 'Malformed CIDR, mask bits must be an integer';
  }
  if (maskBits < 0) return 'Malformed CIDR, mask bits must not be negative';
  if (!looksLikeIp(address)) return `Nonstandard IP address: ${address}`;
  const bytes = ipBytes(address);
  if (!bytes) return `Invalid IP address: ${address}`;
  if (bytes.length === 4 && maskBits > 31) return 'IPv4 mask bits must be < 32';
  if (bytes.length === 16 && maskBits > 127) return 'IPv6 mask bits must be < 128';
  // The range is the whole network, whatever host bits the address was written with: aws/event-ruler's
  // `CIDR.cidr` masks them off for the bottom (`computeBottomBytes`) and sets them for the top (`computeTopBytes`),
  // so `10.0.0.5/24` covers 10.0.0.0-10.0.0.255, as EventBridge matches it.
  let hostBits = bytes.length * 8 - maskBits;
  const bottom = [...bytes];
  const top = [...bytes];
  for (let i = top.length - 1; i >= 0 && hostBits > 0; i--, hostBits -= 8) {
    const hostMask = hostBits >= 8 ? 0xff : (1 << hostBits) - 1;
    bottom[i] = (bottom[i] ?? 0) & ~hostMask & 0xff;
    top[i] = (top[i] ?? 0) | hostMask;
  }
  return { bottom: toHex(bottom), top: toHex(top) };
}
