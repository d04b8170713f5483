/**
 * Customer emails never reach the logs in clear: every email address in any string of a log line (the
 * `customerEmail` key, but also error messages that quote a bad value) is masked to its first character and domain,
 * e.g. `jane@example.org` → `j***@example.org`. Downstream notifications and the failure journal keep the address:
 * consumers and redrive need it.
 */
// Deliberately broader than a valid address: anything that looks like `local@domain`, including invalid input that
// an error message quotes (`a@@b.org`). A `/` may not precede the `@`, so paths like `node_modules/@aws-sdk` survive.
const EMAIL = /([^\s"'<>()[\]{},;:\\/@])[^\s"'<>()[\]{},;:\\/]*@([^\s"'<>()[\]{},;:\\/@]+)/g;

export function maskEmail(text: string): string {
  return text.replace(EMAIL, '$1***@$2');
}

/** A `JSON.stringify` replacer that masks emails in every string value, at any depth. */
export function maskingJsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? maskEmail(value) : value;
}
