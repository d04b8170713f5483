/**
 * Customer emails never reach the logs in clear: every email address in any string of a log line (the
 * `customerEmail` key, but also error messages that quote a bad value) is masked to its first character and domain,
 * e.g. `jane@example.org` → `j***@example.org`. Downstream notifications and the failure journal keep the address:
 * consumers and redrive need it.
 *
 * Both steps cost time linear in the string, whatever it holds: a log line may quote an order's email of any length
 * (a regular expression did this before, and backtracked quadratically on long text without `@`: 263 ms for 20 KB,
 * enough for a few hundred KB to time a processor out). Every logged string is first cut to
 * MAX_LOGGED_STRING_LENGTH, then masked by one scan.
 */

/**
 * Longest string a log line carries, in UTF-16 code units (8 KiB: a stack trace fits, a pasted document does not).
 * A longer string keeps its first characters and ends with a marker giving its full length (see `boundForLog`).
 */
export const MAX_LOGGED_STRING_LENGTH = 8192;

/** Appended to a string cut by `boundForLog`; begins with a space so that it never joins a word of the text. */
export function truncationMarker(originalLength: number, keptLength: number): string {
  return ` [log string cut: ${originalLength} characters, the first ${keptLength} kept]`;
}

/**
 * What masking treats as separating words (an address never spans one): JavaScript's `\s` (whitespace as regular
 * expressions read it, so that this scan masks exactly what the former `[^\s"'<>()[\]{},;:\\/]` classes did) and
 * the characters `"'<>()[]{},;:\/`.
 */
function isSeparator(code: number): boolean {
  if (code < 128) return ASCII_SEPARATORS[code] === 1;
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

const ASCII_SEPARATORS = new Uint8Array(128);
for (const c of '\t\n\v\f\r "\'<>()[]{},;:\\/') ASCII_SEPARATORS[c.charCodeAt(0)] = 1;

const AT = 0x40;

/**
 * Masks every email-like run: deliberately broader than a valid address, anything that looks like `local@domain`,
 * including invalid input that an error message quotes (`a@@b.org` → `a***@b.org`). A `/` ends a word, so paths like
 * `node_modules/@aws-sdk` survive. Within each word (a maximal run without separators): the address starts at the
 * first character that is not `@`, its `@` is the word's last `@` followed by a character other than `@`, and its
 * domain runs from there to the next `@` or the end of the word. One pass, each character read at most twice.
 */
export function maskEmail(text: string): string {
  if (!text.includes('@')) return text;
  const parts: string[] = [];
  let copied = 0;
  let pos = 0;
  const n = text.length;
  while (pos < n) {
    while (pos < n && isSeparator(text.charCodeAt(pos))) pos++;
    let firstNonAt = -1;
    let lastAt = -1;
    while (pos < n) {
      const code = text.charCodeAt(pos);
      if (isSeparator(code)) break;
      if (code !== AT) {
        if (firstNonAt === -1) firstNonAt = pos;
      } else if (pos + 1 < n) {
        const next = text.charCodeAt(pos + 1);
        if (next !== AT && !isSeparator(next)) lastAt = pos;
      }
      pos++;
    }
    if (firstNonAt !== -1 && lastAt > firstNonAt) {
      let domainEnd = lastAt + 1;
      while (domainEnd < pos && text.charCodeAt(domainEnd) !== AT) domainEnd++;
      parts.push(text.slice(copied, firstNonAt + 1), '***@', text.slice(lastAt + 1, domainEnd));
      copied = domainEnd;
    }
  }
  if (copied === 0) return text;
  parts.push(text.slice(copied));
  return parts.join('');
}

/**
 * The string as a log line may carry it: unchanged up to MAX_LOGGED_STRING_LENGTH, else its first characters and
 * `truncationMarker`. The cut never splits a surrogate pair, and never keeps part of a word holding an `@`:
 * masking sees only what is kept, so the local part of an address cut before its `@`, or right after it, would
 * otherwise be logged in clear. Such a word is dropped whole instead.
 */
export function boundForLog(text: string): string {
  if (text.length <= MAX_LOGGED_STRING_LENGTH) return text;
  let cut = MAX_LOGGED_STRING_LENGTH;
  const last = text.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut--;
  if (cut > 0 && !isSeparator(text.charCodeAt(cut - 1)) && !isSeparator(text.charCodeAt(cut))) {
    // The cut splits a word: drop it whole if it holds an `@` on either side of the cut.
    let wordStart = cut;
    while (wordStart > 0 && !isSeparator(text.charCodeAt(wordStart - 1))) wordStart--;
    let wordEnd = cut;
    while (wordEnd < text.length && !isSeparator(text.charCodeAt(wordEnd))) wordEnd++;
    const at = text.indexOf('@', wordStart);
    if (at !== -1 && at < wordEnd) cut = wordStart;
  }
  return `${text.slice(0, cut)}${truncationMarker(text.length, cut)}`;
}

/** A string as it may appear in a log line: bounded, then masked. Linear in the string's length. */
export function maskForLog(text: string): string {
  return maskEmail(boundForLog(text));
}

/** A `JSON.stringify` replacer that bounds and masks every string value, at any depth. */
export function maskingJsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? maskForLog(value) : value;
}
