/**
 * The cause signature of a failure: the error's class and its message with every value that differs between two
 * occurrences of the same fault taken out (ids, numbers, UUIDs, ARNs, IP addresses and ports, timestamps, emails,
 * URL paths). Dead letters with one signature are one cause, whatever order, record or host they failed for:
 * `connect ECONNREFUSED 10.0.3.7:443` and `connect ECONNREFUSED 10.0.9.12:8443` are both
 * `Error: connect ECONNREFUSED <ip>:<port>`. The dead-letter store indexes and counts dead letters by it
 * (docs/ARCHITECTURE.md, "Dead-letter store").
 *
 * Pure string work (no engine, no Node.js built-in), so the console can show how a message normalizes. Normalizing
 * is idempotent: a signature normalizes to itself.
 */

/** Longest class name and normalized message kept; longer ones are cut (at a character boundary). */
export const CAUSE_SIGNATURE_LIMITS = { errorName: 100, message: 400 } as const;

type Rule = readonly [RegExp, string | ((match: string, ...groups: string[]) => string)];

// A whole run of hex digits, dots and colons; `ipv6` decides whether it is an address. One quantifier, anchored at
// the run's start: linear, whatever the input (the rules below are written the same way, a message is input).
const IPV6_CANDIDATE = /(?<![\w:.])[0-9A-Fa-f.:]+(?![\w:.])/g;
const IPV4_SUFFIX = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** `::1`, `fe80::1`, `2001:db8:0:0:0:0:0:1`, `::ffff:10.0.0.1` (a trailing sentence period is kept outside). */
function ipv6(candidate: string): string {
  const period = candidate.endsWith('.') && !IPV4_SUFFIX.test(candidate.split(':').at(-1) ?? '') ? '.' : '';
  const core = period ? candidate.slice(0, -1) : candidate;
  const groups = core.split(':');
  const colons = groups.length - 1;
  const last = groups.at(-1) ?? '';
  const embeddedIpv4 = IPV4_SUFFIX.test(last);
  // Without `::` an address spells out 8 groups, or 6 and an embedded IPv4 address.
  const full = embeddedIpv4 ? 6 : 7;
  if (colons < 2 || (!core.includes('::') && colons < full) || core.includes(':::') || colons > 8) return candidate;
  const hexGroups = embeddedIpv4 ? groups.slice(0, -1) : groups;
  if (!hexGroups.every((group) => /^[0-9A-Fa-f]{0,4}$/.test(group))) return candidate;
  return `<ip>${period}`;
}

/** A token of letters, digits and `+=_` that carries at least 3 digits and a letter: a generated id. */
function generatedId(token: string): string {
  const digits = token.replace(/\D/g, '').length;
  return digits >= 3 && /[A-Za-z]/.test(token) ? '<id>' : token;
}

/** Applied in this order: a later rule never sees what an earlier one replaced (placeholders hold no digit). */
const RULES: readonly Rule[] = [
  // ARNs first: they hold account ids, regions and resource names with numbers and colons.
  [/\barn:[A-Za-z0-9-]+:[A-Za-z0-9-]+:[A-Za-z0-9-]*:\d*:[^\s'"`,;()<>[\]{}]+/g, '<arn>'],
  // URLs keep their scheme and host (which service failed matters); the path and query are ids more often than not.
  // The path class admits `<>` so that an already normalized `/<path>` is one path again (idempotence).
  [
    /(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s/'"`<>()[\]{}]+)\/[^\s'"`()[\]{}]*/g,
    (_m, origin: string) => `${origin}/<path>`,
  ],
  [
    /(?<![A-Za-z0-9.!#$%&'*+/=?^_`{|}~-])[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g,
    '<email>',
  ],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>'],
  // ISO 8601 (date, optional time, fraction and offset), then HTTP dates, then bare clock times.
  [
    /\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?(?![\w:])/g,
    '<timestamp>',
  ],
  [
    /\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT\b/g,
    '<timestamp>',
  ],
  [/(?<![\w:])\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?![\w:])/g, '<timestamp>'],
  // IPv6 before IPv4 (`::ffff:10.0.0.1`). Node writes `connect ECONNREFUSED ::1:443` for IPv6, where the port cannot
  // be told from the last group, so the whole address-and-port is `<ip>` there; `[::1]:443` keeps its port.
  [IPV6_CANDIDATE, ipv6],
  [/(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)/g, '<ip>'],
  [/(<ip>\]?):\d{1,5}\b/g, '$1:<port>'],
  // A host name with a port (`localhost:4566`, `sqs.us-east-1.amazonaws.com:443`): the host stays, the port goes.
  [/(?<![A-Za-z0-9.-])(localhost|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+):\d{1,5}\b/g, '$1:<port>'],
  // Hex ids (event ids, request ids, hashes): 8+ hex digits mixing digits and letters.
  [/(?<![A-Za-z0-9])(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}(?![A-Za-z0-9])/g, '<id>'],
  [/(?<![A-Za-z0-9+=_])[A-Za-z0-9+=_]{10,}(?![A-Za-z0-9+=_])/g, generatedId],
  // Standalone numbers, signed ones too (`got -5`), with a unit if one follows (`3012ms` -> `<n>ms`); digits inside
  // a word stay (`EC2`, `S3`), and so does the number of an AWS Region (`us-east-1`: which Region failed is part of
  // the cause). A hyphen after a word is no sign (`ord-123` -> `ord-<n>`).
  [
    /(?:(?<=^|[\s(=:,[{])-)?(?<![A-Za-z0-9_.,])(?<!\b(?:us|eu|ap|sa|ca|me|af|il|mx|cn)(?:-gov|-iso[a-z]?)?-[a-z]+-)\d+(?:[.,]\d+)*((?:ms|s|sec|min|m|h|kb|KB|mb|MB|gb|GB|b|bytes)?)(?![A-Za-z0-9_])/g,
    '<n>$1',
  ],
  [/\s+/g, ' '],
];

/**
 * Only the start of a message is read, so the work is bounded whatever its length (a message is input): a signature
 * keeps at most `CAUSE_SIGNATURE_LIMITS.message` characters, and a message whose first 2,000 normalize to fewer is
 * made of long values (an ARN, a token) whose tail says nothing more of the cause.
 */
const MAX_INPUT_CHARS = 2000;

/** The message with every varying value replaced by a placeholder (`<ip>`, `<port>`, `<n>`, `<uuid>`, ...). */
export function normalizeErrorMessage(message: string): string {
  let text = cut(String(message), MAX_INPUT_CHARS);
  for (const [pattern, replacement] of RULES) {
    text = text.replace(pattern, replacement as (substring: string, ...args: string[]) => string);
  }
  return cut(text.trim(), CAUSE_SIGNATURE_LIMITS.message);
}

export interface ErrorDescription {
  /** The error's class (`TimeoutError`, `OrderValidationError`); `Error` when empty. */
  readonly errorName: string;
  readonly errorMessage: string;
}

/** `<class>: <normalized message>`, or the class alone when the message normalizes to nothing. */
export function causeSignature(error: ErrorDescription): string {
  const name = cut(String(error.errorName).replace(/\s+/g, ' ').trim(), CAUSE_SIGNATURE_LIMITS.errorName) || 'Error';
  const message = normalizeErrorMessage(error.errorMessage);
  return message ? `${name}: ${message}` : name;
}

/** At most `max` UTF-16 units, never ending inside a surrogate pair. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = /[\uD800-\uDBFF]/.test(text.charAt(max - 1)) ? max - 1 : max;
  return text.slice(0, end).trimEnd();
}
