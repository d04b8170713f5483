import * as fields from './fields.ts';
import type { CompiledClause } from './matchers.ts';
import { find, findWithUnits, type Needle, needleFor } from './search.ts';

// Read once into module constants: where a loader turns imports into property reads (tsx when the entry point is
// CommonJS, test runners), every use of an imported binding is a getter call, 12% of a scan's profile from a CommonJS
// entry. (The bench's ESM entry was not affected.)
const { BOUND_LEAF, BOUND_MATCH, FREE_LEAF, FREE_MATCH, NO, verdictOf } = fields;

/*
 * A lazy reader of JSON text: it walks the text once, descends only into the keys that lead to a clause's path,
 * skips everything else (strings are skipped with indexOf), and records for each clause the same summary bits the
 * object walker computes (see fields.ts). Exact-string clauses compare the text in place, so a typical pipe filter
 * allocates nothing. The walk stops as soon as the summaries prove a non-match, or once no key in the rest of the
 * text can continue a pattern path (then every summary is final; typically right after `NewImage`, leaving `OldImage`
 * and the rest unread). Whenever the text is not what the reader expects (a duplicate key on a pattern path, where
 * JSON.parse keeps the last; a malformed token; a top level that is not an object) it gives up, and the caller parses
 * the text instead, so results always equal matching JSON.parse(text). Values it skips are checked only for balance,
 * and text after an early stop only for ending in '}'.
 */

interface PathNode {
  /** Keys continuing a pattern path from here (including dotted keys that span several segments). */
  readonly keys: string[];
  /**
   * The keys' UTF-16 code units, compared with the text in place: reading a number array is uniform, while the key
   * strings themselves come in several representations (a key cut out of a longer path may be a sliced string),
   * which made the comparison loop a fifth of a scan's profile.
   */
  readonly keyCodes: (readonly number[])[];
  readonly children: PathNode[];
  /** Indexes of the clauses whose path ends here. */
  readonly clauses: number[];
  /** Bit n is set when some key has length n (keys of 32 units or more set no bit and are always compared). */
  lengths: number;
  /**
   * Strings that a key continuing a pattern path at this node or at any node above it must start with, without their
   * opening quote, as indexes into the scanner's `needles` (see `nothingFollows`).
   */
  followNeedles: readonly number[];
  /** Clauses whose path passes through this node; only once each has a leaf (or may be absent) is it worth asking. */
  readonly clausesBelow: number[];
  /**
   * Some child has keys of its own: the value under such a key holds objects on pattern paths (`NewImage`, not the
   * `{"S": …}` of one attribute). Only after such a member is the walk asked whether anything follows (see `members`).
   */
  deep: boolean;
  /** Some child is deep: on entering this object, the walk asks whether any key of it or above it follows at all. */
  askOnEntry: boolean;
  /** Per key, whether it is a DynamoDB number key (`N` or `NS`, see {@link NumberKey}), read when numbers are typed. */
  readonly keyKinds: NumberKey[];
}

/**
 * How a value is read when the scanner reads DynamoDB numbers as the record's typed view does (pipeline's
 * `typedView`): under the key `N` a string is the number it spells, if it spells a finite one; under `NS` an array's
 * string members are. Anything else under those keys is read as written (an array under `N`, a string under `NS`).
 */
const NumberKey = { None: 0, N: 1, NS: 2 } as const;
type NumberKey = (typeof NumberKey)[keyof typeof NumberKey];

/** Thrown (never allocated per call) when the text must be parsed instead. */
const GIVE_UP = Symbol('give up');
/**
 * Returned instead of a position when the rest of the text cannot change the summaries (returned, not thrown: a
 * throw costs over a microsecond, as much as scanning a whole record).
 */
const SETTLED = -1;

const UNSEARCHED = -2;
const ENCODER = new TextEncoder();
/** Texts up to this long are converted into one buffer shared by all scanners (scans never interleave). */
const SHARED_MAX = 1 << 16;
let shared = new Uint8Array(4096);
const NON_ASCII = /[\u0080-\uffff]/;

/**
 * The text's UTF-16 units as bytes, each unit above 0x7f as 0x80, followed by two zero bytes. The walk reads its
 * characters from here: on the texts JSON.stringify returns (a concatenation, flattened on first read), every
 * charCodeAt went through the indirection, and reading a typed array is over twice as fast. Positions are the
 * text's: JSON's structural characters are all ASCII, and a unit above 0x7f can only lie inside a string (compared
 * against the text itself, see `unitIs`). ASCII text is copied by the native UTF-8 encoder, whose output is then
 * exactly its units; other text unit by unit from its first unit above 0x7f. The zeros end every loop at the end of the text (a raw NUL is not JSON).
 */
function unitsOf(text: string): Uint8Array {
  const length = text.length;
  let bytes = shared;
  if (bytes.length < length + 2) {
    bytes = new Uint8Array(Math.max(2 * length, 4096) + 2);
    if (bytes.length <= SHARED_MAX) shared = bytes;
  }
  const { read, written } = ENCODER.encodeInto(text, bytes);
  if (read !== length || written !== length) {
    // The UTF-8 is the units up to the first one above 0x7f; from there, unit by unit.
    for (let i = Math.max(text.search(NON_ASCII), 0); i < length; i++) bytes[i] = Math.min(text.charCodeAt(i), 0x80);
  }
  bytes[length] = 0;
  bytes[length + 1] = 0;
  return bytes;
}
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MAX_KEYS_PER_NODE = 31;

export class JsonScanner {
  private readonly root: PathNode;
  private readonly flags: Int32Array;
  /** Every string some node's `followNeedles` names. */
  private readonly needles: readonly Needle[];
  /**
   * Per needle, during a scan: where it next occurs as `"needle`, from the last position it was searched from (-1:
   * nowhere after it; UNSEARCHED: not searched yet). Later checks reuse it while it still lies ahead, so each needle's
   * searches cover the text about once per scan however often the walk asks.
   */
  private readonly nextNeedle: Int32Array;
  private readonly absenceAllowed: readonly boolean[];
  /** No root needle is empty or starts with a character that may follow a closing quote (see `firstRootKey`). */
  private readonly rootJumps: boolean;
  private text = '';
  /**
   * The text's UTF-16 units as bytes, a unit above 0x7f as 0x80, then two zeros (see `unitsOf`): the walk reads its
   * characters here. The text itself is kept for searches and for the values of leaves.
   */
  private bytes: Uint8Array = shared;
  /** Whether the text has a backslash anywhere; without one no string needs decoding (checked once per scan). */
  private escapes = false;
  /** How many arrays the walk is inside of. */
  private arrays = 0;
  /** Set when some node has too many keys for the duplicate-key bitmask: the scanner is then not used. */
  readonly usable: boolean;

  /** Per clause, its path's keys at the root, quoted as they appear in JSON text. */
  private readonly rootKeys: readonly (readonly string[])[];

  constructor(
    private readonly clauses: readonly { path: string; compiled: CompiledClause }[],
    /** The sub-rules, as lists of clause indexes. */
    private readonly rules: readonly (readonly number[])[],
    /**
     * Read DynamoDB numbers as the record's typed view does (`N` strings, `NS` string members as numbers; see
     * {@link NumberKey}), so that a business rule's `numeric` clauses can be evaluated on the raw record's text.
     */
    private readonly typedNumbers = false,
  ) {
    // A node is the joined text of the first n segments of some path; the root (n = 0) is apart from the key ''.
    const nodes = new Map<string, PathNode>();
    const node = (segments: string[], n: number): PathNode => {
      const id = n === 0 ? '' : `.${segments.slice(0, n).join('.')}`;
      let found = nodes.get(id);
      if (!found) {
        found = {
          keys: [],
          keyCodes: [],
          children: [],
          clauses: [],
          lengths: 0,
          followNeedles: [],
          clausesBelow: [],
          deep: false,
          askOnEntry: false,
          keyKinds: [],
        };
        nodes.set(id, found);
      }
      return found;
    };
    this.root = node([], 0);
    clauses.forEach(({ path }, index) => {
      const segments = path.split('.');
      // Every pair of segment boundaries (i, j) is a key from the node at i to the node at j.
      for (let i = 0; i < segments.length; i++) {
        const from = node(segments, i);
        for (let j = i + 1; j <= segments.length; j++) {
          const key = segments.slice(i, j).join('.');
          if (!from.keys.includes(key)) {
            from.keys.push(key);
            from.keyCodes.push(codesOf(key));
            from.children.push(node(segments, j));
            from.keyKinds.push(key === 'N' ? NumberKey.N : key === 'NS' ? NumberKey.NS : NumberKey.None);
            if (key.length < 32) from.lengths |= 1 << key.length;
          }
        }
      }
      node(segments, segments.length).clauses.push(index);
      for (let n = 0; n <= segments.length; n++) node(segments, n).clausesBelow.push(index);
    });
    this.rootKeys = clauses.map(({ path }) => {
      const segments = path.split('.');
      return segments.map((_, j) => JSON.stringify(segments.slice(0, j + 1).join('.')));
    });
    for (const n of nodes.values()) n.deep = n.children.some((c) => c.keys.length > 0);
    for (const n of nodes.values()) n.askOnEntry = n !== this.root && n.children.some((c) => c.deep);
    this.usable = [...nodes.values()].every((n) => n.keys.length <= MAX_KEYS_PER_NODE);
    const needles: string[] = [];
    // The nodes above a node are those whose id is a prefix of its id at a segment boundary.
    for (const [id, found] of nodes) {
      // Deepest first: a key of the innermost object is the one most likely to come soon, ending the search early.
      const keys = [...nodes]
        .filter(([other]) => other === '' || other === id || id.startsWith(`${other}.`))
        .sort(([a], [b]) => b.length - a.length)
        .flatMap(([, n]) => n.keys);
      found.followNeedles = keys
        .filter((key) => !keys.some((other) => other !== key && key.startsWith(other)))
        .map((key) => {
          if (!needles.includes(key)) needles.push(key);
          return needles.indexOf(key);
        });
    }
    this.needles = needles.map((key) => needleFor(`"${key}`));
    this.rootJumps = this.root.followNeedles.every((id) => /^[^\s:,}\]]/.test(needles[id] as string));
    this.nextNeedle = new Int32Array(needles.length);
    this.flags = new Int32Array(clauses.length);
    this.absenceAllowed = clauses.map(({ compiled }) => compiled.allowsAbsence);
  }

  /**
   * Summary bits per clause, or undefined when the text must be parsed instead. `escapes` is whether the text holds a
   * backslash, which the caller has already looked up.
   */
  scan(text: string, escapes: boolean): Int32Array | undefined {
    if (!this.usable) return undefined;
    // Loops, not fill(): for a few entries the builtin's call costs more than the stores.
    const flags = this.flags;
    for (let i = 0; i < flags.length; i++) flags[i] = 0;
    const next = this.nextNeedle;
    for (let i = 0; i < next.length; i++) next[i] = UNSEARCHED;
    this.arrays = 0;
    this.text = text;
    this.escapes = escapes;
    this.bytes = unitsOf(text);
    try {
      let pos = this.space(0);
      if (this.bytes[pos] !== 0x7b /* { */) return undefined;
      const first = escapes ? pos + 1 : this.firstRootKey(pos);
      if (first === SETTLED) return this.endsAsObject() ? this.flags : undefined;
      pos = first > pos + 1 ? this.members(first, this.root, false) : this.object(pos, this.root, false);
      if (pos === SETTLED) return this.endsAsObject() ? this.flags : undefined;
      return this.space(pos) === text.length ? this.flags : undefined;
    } catch (error: unknown) {
      if (error === GIVE_UP) return undefined;
      throw error;
    } finally {
      this.text = '';
      this.bytes = shared;
    }
  }

  private space(pos: number): number {
    const bytes = this.bytes;
    for (;;) {
      const c = bytes[pos];
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return pos;
      pos++;
    }
  }

  private expect(pos: number, code: number): number {
    if (this.bytes[pos] !== code) throw GIVE_UP;
    return pos + 1;
  }

  /** Index of the quote closing the string whose contents start at `pos` (small, so that it is inlined). */
  private stringEnd(pos: number): number {
    const text = this.text;
    const bytes = this.bytes;
    // One-unit strings (DynamoDB's type keys "S", "N") are common enough to test for before searching.
    if (bytes[pos + 1] === QUOTE && bytes[pos] !== BACKSLASH && bytes[pos] !== QUOTE) {
      return pos + 1;
    }
    const quote = text.indexOf('"', pos);
    return quote >= 0 && !this.escapes ? quote : this.escapedStringEnd(pos);
  }

  private escapedStringEnd(pos: number): number {
    const text = this.text;
    for (;;) {
      const quote = text.indexOf('"', pos);
      if (quote < 0) throw GIVE_UP;
      let slashes = 0;
      while (text.charCodeAt(quote - 1 - slashes) === BACKSLASH) slashes++;
      if (slashes % 2 === 0) return quote;
      pos = quote + 1;
    }
  }

  private hasEscape(start: number, end: number): boolean {
    if (!this.escapes) return false;
    const text = this.text;
    for (let i = start; i < end; i++) if (text.charCodeAt(i) === BACKSLASH) return true;
    return false;
  }

  /**
   * Reads the object at `pos` (its '{'), descending into keys of `node`; returns the position after its '}', or
   * SETTLED when the walk can stop.
   */
  private object(pos: number, node: PathNode, bound: boolean): number {
    pos = this.space(pos + 1);
    if (this.bytes[pos] === 0x7d /* } */) return pos + 1;
    // An object whose members would be deep (`dynamodb`) often lacks them all (a REMOVE record has no `NewImage`):
    // then nothing later can add a leaf, and the rest (`Keys`, `OldImage`) is left unread. One search when it does
    // have them, and its result is kept for the later checks.
    if (node.askOnEntry && this.nothingFollows(pos, node)) return SETTLED;
    return this.members(pos, node, bound);
  }

  /**
   * Where the walk of the root object (its '{' at `start`) can begin in backslash-free text: at the first root member
   * whose key may continue a pattern path, when only scalars and arrays of them precede it. The first `"needle`
   * preceded by ',' opens a string (after a closing quote JSON allows only whitespace, ':', ',', '}' or ']', and no
   * needle starts so); when that string is followed by ':' it is a key, and with no '{' between the root's and it,
   * the only object it can be a key of is the root (inside an array a string is followed by ',' or ']'). The earlier
   * root keys, lacking every needle, are on no pattern path, and their values hold no key at all. Returns the position
   * of its quote, `start + 1` to walk from the beginning, or SETTLED when no root key can continue a pattern path.
   * (Looking for a '[' as well cost a search to the end of the text: records rarely hold one.)
   */
  private firstRootKey(start: number): number {
    const text = this.text;
    const bytes = this.bytes;
    const ids = this.root.followNeedles;
    let first = text.length;
    for (let n = 0; n < ids.length; n++) {
      const id = ids[n] as number;
      const at = this.find(this.needles[id] as Needle, start);
      this.nextNeedle[id] = at;
      if (at >= 0 && at < first) first = at;
    }
    if (first === text.length) return SETTLED;
    const quote = first - 1;
    if (!this.rootJumps || bytes[quote - 1] !== 0x2c /* , */) return start + 1;
    const brace = text.indexOf('{', start + 1);
    if (brace >= 0 && brace < quote) return start + 1;
    let after = text.indexOf('"', first) + 1;
    if (after === 0) return start + 1;
    if ((bytes[after] as number) <= 0x20) after = this.space(after);
    return bytes[after] === 0x3a /* : */ ? quote : start + 1;
  }

  /** Reads the members of an object from `pos` (the quote of a key) to the position after its '}'. */
  private members(pos: number, node: PathNode, bound: boolean): number {
    const bytes = this.bytes;
    let seen = 0;
    for (;;) {
      if (bytes[pos] !== QUOTE) throw GIVE_UP;
      const end = this.stringEnd(pos + 1);
      const child = this.childFor(node, pos + 1, end);
      // Whitespace is rare in machine-written JSON: test for it before calling out.
      pos = end + 1;
      if (bytes[pos] !== 0x3a /* : */) pos = this.space(pos);
      if (bytes[pos++] !== 0x3a) throw GIVE_UP;
      if ((bytes[pos] as number) <= 0x20) pos = this.space(pos);
      if (child < 0) {
        // Most skipped values are strings: their end is one search away.
        if (bytes[pos] === QUOTE) pos = this.stringEnd(pos + 1) + 1;
        else pos = this.skip(pos);
      } else {
        // JSON.parse keeps the last of duplicate keys; the walk would see both.
        if (seen & (1 << child)) throw GIVE_UP;
        seen |= 1 << child;
        const next = node.children[child] as PathNode;
        pos = this.value(pos, next, bound, this.typedNumbers ? (node.keyKinds[child] as NumberKey) : NumberKey.None);
        if (pos === SETTLED) return SETTLED;
        if (node === this.root && this.settledNo(pos)) return SETTLED;
        // Each check searches the rest of the text for every key that could continue a path, worth it where much could
        // be left unread: at the root, and after a member holding objects on paths (`NewImage`, leaving `OldImage`).
        // After a leaf or a DynamoDB attribute value (`"orderStatus":{"S":…}`) the object usually has only a few members
        // left, cheaper to skip than to search for (on INSERT records every search ran to the end of the text), and
        // the check is made one level up when it closes.
        const worthAsking = node === this.root || next.deep;
        if (worthAsking && this.allReached(node) && this.nothingFollows(pos, node)) return SETTLED;
      }
      if ((bytes[pos] as number) <= 0x20) pos = this.space(pos);
      const c = bytes[pos];
      if (c === 0x7d /* } */) return pos + 1;
      if (c !== 0x2c /* , */) throw GIVE_UP;
      pos++;
      if ((bytes[pos] as number) <= 0x20) pos = this.space(pos);
    }
  }

  /** `find` in the text, reading the bytes where it can. */
  private find(needle: Needle, from: number): number {
    return needle.ascii ? findWithUnits(this.text, this.bytes, needle, from) : find(this.text, needle, from);
  }

  /** Whether `expected` occurs in the text at `start` (a plain loop beats startsWith on short strings). */
  private textAt(expected: string, start: number): boolean {
    const bytes = this.bytes;
    const last = expected.length - 1;
    // Keys of one length often share a start (`orderStatus`, `orderAmount`): the last unit tells most apart at once.
    if (last > 0 && !this.unitIs(bytes, start + last, expected.charCodeAt(last))) return false;
    for (let i = 0; i < last; i++) if (!this.unitIs(bytes, start + i, expected.charCodeAt(i))) return false;
    return last < 0 || this.unitIs(bytes, start + last, expected.charCodeAt(last));
  }

  /** Index of the key [start, end) among the node's keys, or -1. */
  private childFor(node: PathNode, start: number, end: number): number {
    if (this.escapes && this.hasEscape(start, end)) {
      return node.keys.indexOf(JSON.parse(this.text.slice(start - 1, end + 1)) as string);
    }
    const length = end - start;
    // Most keys are not on a pattern path; their length alone usually tells.
    if (length < 32 && (node.lengths & (1 << length)) === 0) return -1;
    const keys = node.keyCodes;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as readonly number[];
      if (key.length === length && this.codesAt(key, start)) return i;
    }
    return -1;
  }

  /** Whether the code units `expected` occur in the text at `start`. */
  private codesAt(expected: readonly number[], start: number): boolean {
    const bytes = this.bytes;
    const last = expected.length - 1;
    // Keys of one length often share a start (`orderStatus`, `orderAmount`): the last unit tells most apart at once.
    if (last > 0 && !this.unitIs(bytes, start + last, expected[last] as number)) return false;
    for (let i = 0; i < last; i++) if (!this.unitIs(bytes, start + i, expected[i] as number)) return false;
    return last < 0 || this.unitIs(bytes, start + last, expected[last] as number);
  }

  /** Whether the text's unit at `at` is `code`: read from the bytes when ASCII (as a byte, 0x80 stands for any other). */
  private unitIs(bytes: Uint8Array, at: number, code: number): boolean {
    return code < 0x80 ? bytes[at] === code : this.text.charCodeAt(at) === code;
  }

  /**
   * Whether every sub-rule already has a failing clause whose leaves are all known: a clause's leaves can only come
   * through its path's keys at the root, so once none of those keys occurs in the rest of the text, nothing later
   * can change it. Checked after each root member that lies on a pattern path (`eventName` settles most records).
   * Not with escapes in the text: a key spelled `"\u0070ath"` would hide from the search.
   */
  private settledNo(pos: number): boolean {
    if (this.escapes) return false;
    for (let r = 0; r < this.rules.length; r++) {
      const rule = this.rules[r] as readonly number[];
      let settled = false;
      for (let c = 0; c < rule.length && !settled; c++) {
        const i = rule[c] as number;
        const compiled = (this.clauses[i] as { compiled: CompiledClause }).compiled;
        if (verdictOf(this.flags[i] as number, compiled.allowsAbsence) !== NO) continue;
        const keys = this.rootKeys[i] as readonly string[];
        settled = true;
        for (let k = 0; k < keys.length && settled; k++) settled = !this.text.includes(keys[k] as string, pos);
      }
      if (!settled) return false;
    }
    return true;
  }

  /**
   * Whether no key in the rest of the text can continue a pattern path, so that every summary is final. The walk is
   * inside objects of the node and of nodes above it (never inside an array); a later member matters only if its key
   * is one of theirs, and in text without backslashes such a key appears as its quote and characters. A needle
   * found anywhere else (inside a value, in an unrelated object) only keeps the walk going.
   */
  private nothingFollows(pos: number, node: PathNode): boolean {
    if (this.escapes || this.arrays > 0) return false;
    const ids = node.followNeedles;
    for (let n = 0; n < ids.length; n++) {
      const id = ids[n] as number;
      let at = this.nextNeedle[id] as number;
      if (at === -1) continue;
      if (at === UNSEARCHED || at < pos) {
        at = this.find(this.needles[id] as Needle, pos);
        this.nextNeedle[id] = at;
      }
      if (at >= 0) return false;
    }
    return true;
  }

  /** Whether every clause below the node has a leaf or allows absence: until then, more of the node is expected. */
  private allReached(node: PathNode): boolean {
    const below = node.clausesBelow;
    for (let i = 0; i < below.length; i++) {
      const index = below[i] as number;
      if (((this.flags[index] as number) & (FREE_LEAF | BOUND_LEAF)) === 0 && !this.absenceAllowed[index]) return false;
    }
    return true;
  }

  /** Whether the text's last character that is not whitespace closes an object (checked when the walk stops early). */
  private endsAsObject(): boolean {
    const text = this.text;
    let end = text.length - 1;
    while (end >= 0 && isSpace(text.charCodeAt(end))) end--;
    return text.charCodeAt(end) === 0x7d;
  }

  /**
   * A value under a pattern path: leaves are recorded where clauses end, containers are entered. `kind` is the
   * {@link NumberKey} of the key the value is under (always None unless numbers are typed).
   */
  private value(pos: number, node: PathNode, bound: boolean, kind: NumberKey): number {
    const c = this.bytes[pos];
    if (c === 0x7b /* { */) return node.keys.length > 0 ? this.object(pos, node, bound) : this.skip(pos);
    if (c === 0x5b /* [ */) return this.array(pos, node, bound, kind === NumberKey.NS);
    return node.clauses.length > 0 ? this.leaf(pos, node, bound, kind === NumberKey.N) : this.skip(pos);
  }

  /**
   * Elements that are objects or arrays bind their leaves to the element (array consistency). `numberSet`: the array
   * is an `NS` whose string members are read as numbers (typed numbers only).
   */
  private array(pos: number, node: PathNode, bound: boolean, numberSet: boolean): number {
    const bytes = this.bytes;
    pos = this.space(pos + 1);
    if (bytes[pos] === 0x5d /* ] */) return pos + 1;
    this.arrays++;
    for (;;) {
      const c = bytes[pos];
      // The typed view converts an NS's members but does not look inside a container among them, where the walk
      // would read an `N` as a number: parse instead (no record has such a member).
      if (numberSet && (c === 0x7b || c === 0x5b)) throw GIVE_UP;
      pos =
        c === 0x7b || c === 0x5b
          ? this.value(pos, node, true, NumberKey.None)
          : this.value(pos, node, bound, numberSet ? NumberKey.N : NumberKey.None);
      // (Never SETTLED inside an array, whose later elements could still add leaves; checked for safety.)
      if (pos === SETTLED) return SETTLED;
      pos = this.space(pos);
      if (bytes[pos] === 0x5d /* ] */) {
        this.arrays--;
        return pos + 1;
      }
      pos = this.space(this.expect(pos, 0x2c /* , */));
    }
  }

  /** `number`: a string here is read as the number it spells, if any (a DynamoDB number with typed numbers). */
  private leaf(pos: number, node: PathNode, bound: boolean, number: boolean): number {
    const text = this.text;
    const bytes = this.bytes;
    const c = bytes[pos];
    let end: number;
    let value: unknown;
    let decoded = true;
    if (c === QUOTE) {
      end = this.stringEnd(pos + 1) + 1;
      decoded = false;
      if (number) {
        const spelled = this.numberInString(pos + 1, end - 1);
        if (spelled !== undefined) {
          value = spelled;
          decoded = true;
        }
      }
    } else if (c === 0x74 /* t */ && text.startsWith('true', pos)) {
      end = pos + 4;
      value = true;
    } else if (c === 0x66 /* f */ && text.startsWith('false', pos)) {
      end = pos + 5;
      value = false;
    } else if (c === 0x6e /* n */ && text.startsWith('null', pos)) {
      end = pos + 4;
      value = null;
    } else {
      end = this.numberEnd(pos);
      value = parseNumber(text, bytes, pos, end);
    }
    const leafBit = bound ? BOUND_LEAF : FREE_LEAF;
    const matchBit = bound ? BOUND_MATCH : FREE_MATCH;
    const clauses = node.clauses;
    for (let i = 0; i < clauses.length; i++) {
      const index = clauses[i] as number;
      const flags = (this.flags[index] as number) | leafBit;
      this.flags[index] = flags;
      if (flags & FREE_MATCH) continue;
      const compiled = (this.clauses[index] as { compiled: CompiledClause }).compiled;
      let matched: boolean;
      if (compiled.acceptsAnyLeaf) matched = true;
      else if (!decoded && compiled.exactStrings && !this.hasEscape(pos + 1, end - 1)) {
        matched = this.oneOfInPlace(compiled.exactStrings, pos + 1, end - 1);
      } else if (!decoded && compiled.testInText && !this.hasEscape(pos + 1, end - 1)) {
        matched = compiled.testInText(text, pos + 1, end - 1, this.bytes);
      } else {
        if (!decoded) {
          value = this.hasEscape(pos + 1, end - 1) ? JSON.parse(text.slice(pos, end)) : text.slice(pos + 1, end - 1);
          decoded = true;
        }
        matched = compiled.test(value);
      }
      if (matched) this.flags[index] = flags | matchBit;
    }
    return end;
  }

  /**
   * The number the string [start, end) spells as the typed view reads it (`Number(s)` when `s` is not blank and the
   * result is finite), or undefined when it stays a string. Plain decimals of at most 15 digits are read from the
   * bytes (Clinger's fast path, the value `Number` gives); anything else goes through `Number`.
   */
  private numberInString(start: number, end: number): number | undefined {
    const bytes = this.bytes;
    let pos = start;
    const negative = bytes[pos] === 0x2d; /* - */
    if (negative) pos++;
    let mantissa = 0;
    let digits = 0;
    let fractionDigits = 0;
    while (pos < end && isDigit(bytes[pos] as number)) {
      mantissa = mantissa * 10 + ((bytes[pos++] as number) - 0x30);
      digits++;
    }
    const integerDigits = digits;
    if (pos < end && bytes[pos] === 0x2e /* . */) {
      pos++;
      while (pos < end && isDigit(bytes[pos] as number)) {
        mantissa = mantissa * 10 + ((bytes[pos++] as number) - 0x30);
        fractionDigits++;
      }
      digits += fractionDigits;
    }
    if (pos === end && integerDigits > 0 && (fractionDigits > 0 || bytes[end - 1] !== 0x2e) && digits <= 15) {
      const value = fractionDigits > 0 ? mantissa / (POWERS_OF_TEN[fractionDigits] as number) : mantissa;
      return negative ? -value : value;
    }
    const raw = this.text.slice(start, end);
    const spelled = this.hasEscape(start, end) ? (JSON.parse(`"${raw}"`) as string) : raw;
    return typedNumber(spelled);
  }

  private oneOfInPlace(values: readonly string[], start: number, end: number): boolean {
    for (let i = 0; i < values.length; i++) {
      const value = values[i] as string;
      if (value.length === end - start && this.textAt(value, start)) return true;
    }
    return false;
  }

  private numberEnd(pos: number): number {
    const bytes = this.bytes;
    let end = pos;
    for (;;) {
      const c = bytes[end] as number;
      // digits, '+', '-', '.', 'e', 'E'
      if ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e || c === 0x65 || c === 0x45) end++;
      else break;
    }
    if (end === pos) throw GIVE_UP;
    return end;
  }

  /** Skips any value; containers are only checked for balance. */
  private skip(pos: number): number {
    const text = this.text;
    const bytes = this.bytes;
    const c = bytes[pos];
    if (c === QUOTE) return this.stringEnd(pos + 1) + 1;
    if (c === 0x7b || c === 0x5b) {
      let depth = 0;
      for (;;) {
        const d = bytes[pos];
        if (d === QUOTE) {
          pos = this.stringEnd(pos + 1) + 1;
          continue;
        }
        pos++;
        if (d === 0x7b || d === 0x5b) depth++;
        else if (d === 0x7d || d === 0x5d) {
          if (--depth === 0) return pos;
        } else if (d === 0) throw GIVE_UP; // the text ended inside the value (or holds a raw NUL, which JSON does not allow)
      }
    }
    if (c === 0x74 && text.startsWith('true', pos)) return pos + 4;
    if (c === 0x66 && text.startsWith('false', pos)) return pos + 5;
    if (c === 0x6e && text.startsWith('null', pos)) return pos + 4;
    return this.numberEnd(pos);
  }
}

// Parsed from text so each is the exact double (10^22 is the largest exact power of ten).
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/**
 * The double JSON.parse would produce for the number text [start, end). Plain decimals with at most 15 significant
 * digits take Clinger's fast path (an exact integer divided by an exact power of ten rounds once, correctly); numbers
 * with an exponent or more digits go through Number(). Text that is not a JSON number gives up.
 */
function parseNumber(text: string, bytes: Uint8Array, start: number, end: number): number {
  let pos = start;
  const negative = bytes[pos] === 0x2d;
  if (negative) pos++;
  const first = pos;
  let mantissa = 0;
  while (pos < end && isDigit(bytes[pos] as number)) mantissa = mantissa * 10 + ((bytes[pos++] as number) - 0x30);
  const integerDigits = pos - first;
  // JSON: at least one integer digit, and no leading zero before another digit.
  if (integerDigits === 0 || (integerDigits > 1 && bytes[first] === 0x30)) throw GIVE_UP;
  let fractionDigits = 0;
  if (pos < end && bytes[pos] === 0x2e) {
    pos++;
    while (pos < end && isDigit(bytes[pos] as number)) {
      mantissa = mantissa * 10 + ((bytes[pos++] as number) - 0x30);
      fractionDigits++;
    }
    if (fractionDigits === 0) throw GIVE_UP;
  }
  if (pos === end && integerDigits + fractionDigits <= 15) {
    const value = fractionDigits > 0 ? mantissa / (POWERS_OF_TEN[fractionDigits] as number) : mantissa;
    return negative ? -value : value;
  }
  const literal = text.slice(start, end);
  if (!/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(literal)) throw GIVE_UP;
  return Number(literal);
}

/**
 * A DynamoDB number string as pipeline's `typedView` reads it: the number when the string is not blank and `Number`
 * makes a finite number of it (so also `0x1A`, ` 7 `, `1.`), else undefined (it stays a string).
 */
export function typedNumber(text: string): number | undefined {
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : undefined;
}

/** The UTF-16 code units of a string, as a packed array of small integers. */
function codesOf(value: string): number[] {
  const codes: number[] = [];
  for (let i = 0; i < value.length; i++) codes.push(value.charCodeAt(i));
  return codes;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
