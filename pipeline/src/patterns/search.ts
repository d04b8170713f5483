/*
 * Finding a string in JSON text with indexOf, fast. V8 looks for a needle by scanning for its first character
 * (memchr) and comparing at each hit, so a needle starting with a character that JSON text is full of (a quote, `s`,
 * `d`, `o`) stops at every occurrence: `shipped"` stopped at each of the ~30 `s` of a stream record, `dynamodb` at every
 * `d` of `orderId` and `orderDate`. A needle is therefore searched from its least common character (by a fixed
 * ranking of what JSON events are made of), and the part before it is then compared in place.
 */

/** Characters of JSON events, most common first; anything not listed counts as rarer than all of them. */
const COMMON = '"e:,atosrnidS0123456789lcu-.mN{}_ATEpDIgOhf/RCM';

function rarity(c: string): number {
  const at = COMMON.indexOf(c);
  return at < 0 ? COMMON.length : at;
}

export interface Needle {
  /** The whole string looked for (without the opening quote when `quoted`). */
  readonly text: string;
  /** It must follow a quote (a key or a string value starting with it). */
  readonly quoted: boolean;
  /** Index in `text` of its rarest character, and `text` from there on: the part given to indexOf. */
  readonly anchor: number;
  readonly tail: string;
  /** The code units before the anchor. */
  readonly head: readonly number[];
  /** Every unit of the needle is ASCII. */
  readonly ascii: boolean;
}

/** A needle for `text`; a leading quote is not searched for but checked (quotes are everywhere in JSON). */
export function needleFor(text: string): Needle {
  const quoted = text.length > 1 && text.startsWith('"');
  const body = quoted ? text.slice(1) : text;
  let anchor = 0;
  for (let i = 1; i < body.length; i++) if (rarity(body[i] as string) > rarity(body[anchor] as string)) anchor = i;
  const head = Array.from(body.slice(0, anchor), (c) => c.charCodeAt(0));
  return {
    text: body,
    quoted,
    anchor,
    tail: body.slice(anchor),
    head,
    ascii: ![...body].some((c) => c.charCodeAt(0) > 0x7f),
  };
}

/** Index of the first occurrence of the needle at or after `from` (after its quote, when quoted), or -1. */
export function find(text: string, needle: Needle, from: number): number {
  const { anchor, tail } = needle;
  let at = text.indexOf(tail, from + anchor);
  while (at >= 0) {
    const start = at - anchor;
    if (headAt(text, needle, start) && (!needle.quoted || text.charCodeAt(start - 1) === 0x22) /* " */) return start;
    at = text.indexOf(tail, at + 1);
  }
  return -1;
}

/**
 * `find`, checking the part before the anchor and the quote in `units`, the text's units as bytes with every unit
 * above 0x7f as 0x80 (see scan.ts): cheaper to read than the text. Only for needles without such units (`ascii`).
 */
export function findWithUnits(text: string, units: Uint8Array, needle: Needle, from: number): number {
  const { anchor, tail } = needle;
  let at = text.indexOf(tail, from + anchor);
  while (at >= 0) {
    const start = at - anchor;
    if ((!needle.quoted || units[start - 1] === 0x22) /* " */ && headIn(units, needle, start)) return start;
    at = text.indexOf(tail, at + 1);
  }
  return -1;
}

function headIn(units: Uint8Array, needle: Needle, start: number): boolean {
  const head = needle.head;
  for (let i = 0; i < head.length; i++) if (units[start + i] !== head[i]) return false;
  return true;
}

function headAt(text: string, needle: Needle, start: number): boolean {
  const body = needle.text;
  for (let i = 0; i < needle.anchor; i++) if (text.charCodeAt(start + i) !== body.charCodeAt(i)) return false;
  return true;
}
