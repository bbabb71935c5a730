/**
 * GNI mutation operators for the fuzzer (scripts/fuzz-gni.ts): each takes a source document
 * (its XML text and its JSON form) and a random source, and returns a mutant's bytes and a
 * name saying what was done. Text operators work on the XML (byte flips, truncation, dropped
 * and duplicated elements, DOCTYPE and entities, bad addresses, unicode); structure operators
 * work on the JSON form (dropped and duplicated entities, duplicate ids, dangling references,
 * missing and mistyped fields, JSON variants) and write JSON.
 */

/** A source document to mutate. */
export interface FuzzSource {
  readonly name: string;
  /** Canonical XML text. */
  readonly xml: string;
  /** The JSON form (gni-format §15) as plain data. */
  readonly json: unknown;
}

/** One mutant: its bytes and what was done. */
export interface Mutant {
  readonly operator: string;
  readonly text: string;
}

type Rng = () => number;
type Operator = (s: FuzzSource, r: Rng) => Mutant;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const int = (r: Rng, n: number): number => Math.floor(r() * n);
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[int(r, xs.length)]!;

const ODD_CHARS = [
  '<',
  '>',
  '&',
  '"',
  "'",
  '/',
  '=',
  ' ',
  '\u0000',
  '\u0007',
  '\u00e9',
  '\u202e',
  '\u200b',
  '\ufeff',
  '\ud83d\ude00',
  '\ud800',
  ']]>',
  '<!--',
  '&#0;',
  '&#x202e;',
  '&amp;',
  '&bogus;',
];

const BAD_ADDRESSES = [
  '10.1.2.300',
  '010.000.000.001',
  '10.0.0',
  '10.0.0.1.5',
  '10.0.0.0/33',
  '10.0.0.0/08',
  '10.0.0.1/24',
  '0.0.0.0',
  '255.255.255.255',
  '::1',
  ' 10.0.0.1',
  '10.0.0.1 ',
  '1e3.0.0.1',
  '-1.0.0.1',
  '10.0.0.1\u202e',
  '',
];

const BAD_MACS = ['d0:0d:zz:00:00:01', 'd0:0d:00:00:01', 'D0:0D:00:00:00:01', 'ff:ff:ff:ff:ff:ff'];

const UNICODE = [
  '\u202e',
  '\u200f',
  '\u0301',
  '\u00a0',
  '\ud83d\ude00',
  '\u0000',
  '\u001b[31m',
  '\u2028',
  'é',
  '\uffff',
];

/** Replaces one character (or inserts an odd token) at a random place. */
const flipByte: Operator = (s, r) => {
  const at = int(r, s.xml.length);
  const by = r() < 0.5 ? pick(r, ODD_CHARS) : String.fromCharCode(int(r, 128));
  return { operator: 'flip-byte', text: s.xml.slice(0, at) + by + s.xml.slice(at + 1) };
};

const truncate: Operator = (s, r) => ({
  operator: 'truncate',
  text: s.xml.slice(0, int(r, s.xml.length)),
});

/** The [start, end) of a random element (not the root) and its text. */
function randomElement(xml: string, r: Rng): { start: number; end: number } | undefined {
  const starts: number[] = [];
  const re = /<([A-Za-z][\w.-]*)(\s[^>]*)?>/g;
  for (let m = re.exec(xml); m !== null; m = re.exec(xml)) starts.push(m.index);
  if (starts.length < 2) return undefined;
  const start = starts[1 + int(r, starts.length - 1)]!;
  const head = /<([A-Za-z][\w.-]*)(\s[^>]*)?>/y;
  head.lastIndex = start;
  const m = head.exec(xml)!;
  if (m[0].endsWith('/>')) return { start, end: start + m[0].length };
  const name = m[1]!;
  const tags = new RegExp(`<(/?)${name.replace(/\./g, '\\.')}(\\s[^>]*)?>`, 'g');
  tags.lastIndex = start + m[0].length;
  let depth = 1;
  for (let t = tags.exec(xml); t !== null; t = tags.exec(xml)) {
    if (t[1] === '/') depth--;
    else if (!t[0].endsWith('/>')) depth++;
    if (depth === 0) return { start, end: t.index + t[0].length };
  }
  return undefined;
}

const dropElement: Operator = (s, r) => {
  const e = randomElement(s.xml, r);
  if (e === undefined) return truncate(s, r);
  return { operator: 'drop-element', text: s.xml.slice(0, e.start) + s.xml.slice(e.end) };
};

const duplicateElement: Operator = (s, r) => {
  const e = randomElement(s.xml, r);
  if (e === undefined) return truncate(s, r);
  const copy = s.xml.slice(e.start, e.end);
  return { operator: 'duplicate-element', text: s.xml.slice(0, e.end) + copy + s.xml.slice(e.end) };
};

/** Replaces the n-th match of `re` in the XML with `by`. */
function replaceOne(xml: string, re: RegExp, r: Rng, by: string): string | undefined {
  const all = [...xml.matchAll(re)];
  if (all.length === 0) return undefined;
  const m = pick(r, all);
  return xml.slice(0, m.index) + by + xml.slice(m.index + m[0].length);
}

const badAddress: Operator = (s, r) => {
  const text = replaceOne(
    s.xml,
    /\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(\/\d{1,2})?\b/g,
    r,
    pick(r, BAD_ADDRESSES),
  );
  return text === undefined ? flipByte(s, r) : { operator: 'bad-address', text };
};

const badMac: Operator = (s, r) => {
  const text = replaceOne(s.xml, /\b[0-9a-f]{2}(:[0-9a-f]{2}){5}\b/gi, r, pick(r, BAD_MACS));
  return text === undefined ? flipByte(s, r) : { operator: 'bad-mac', text };
};

const unicodeValue: Operator = (s, r) => {
  const text = replaceOne(
    s.xml,
    /(value|name)="[^"]*"/g,
    r,
    `name="${pick(r, ['sg-', 'i-', 'subnet-', 'vpc-', ''])}${pick(r, UNICODE)}x"`,
  );
  return text === undefined ? flipByte(s, r) : { operator: 'unicode', text };
};

const doctype: Operator = (s, r) => {
  const kind = int(r, 4);
  const decl = s.xml.startsWith('<?xml') ? s.xml.indexOf('?>') + 2 : 0;
  const head = s.xml.slice(0, decl);
  let body = s.xml.slice(decl);
  let dtd: string;
  if (kind === 0) dtd = '<!DOCTYPE network-data>';
  else if (kind === 1) dtd = '<!DOCTYPE network-data [<!ENTITY e "10.0.0.1">]>';
  else if (kind === 2) dtd = '<!DOCTYPE network-data [<!ENTITY e SYSTEM "file:///etc/passwd">]>';
  else {
    const levels = ['<!ENTITY l0 "lol">'];
    for (let i = 1; i < 10; i++) levels.push(`<!ENTITY l${i} "${`&l${i - 1};`.repeat(10)}">`);
    dtd = `<!DOCTYPE network-data [${levels.join('')}]>`;
  }
  if (kind > 0)
    body = replaceOne(body, /value="[^"]*"/g, r, `value="&${kind === 3 ? 'l9' : 'e'};"`) ?? body;
  return { operator: 'doctype', text: `${head}${dtd}${body}` };
};

/** Every [container, key] in the JSON form, for the structure operators. */
function slots(root: Json): [Json, string | number][] {
  const out: [Json, string | number][] = [];
  const walk = (v: Json): void => {
    if (Array.isArray(v)) v.forEach((x, i) => (out.push([v, i]), walk(x)));
    else if (v !== null && typeof v === 'object')
      for (const k of Object.keys(v)) (out.push([v, k]), walk(v[k]));
  };
  walk(root);
  return out;
}

/** Objects with a `name` (entities and properties) in arrays, as [array, index]. */
function entities(root: Json): [Json[], number][] {
  return slots(root).filter(
    ([c, k]) => Array.isArray(c) && typeof c[k as number]?.name === 'string',
  ) as [Json[], number][];
}

const REF_FIELDS = ['vpc', 'subnet', 'networkAcl', 'routeTable', 'dhcpOptionSet', 'groupId'];
const REF_TARGETS = ['x-deadbeef', 'sg-00000000', 'subnet-00000000', 'vpc-00000000', ''];

const structural: Operator = (s, r) => {
  const doc: Json = structuredClone(s.json);
  const kind = int(r, 7);
  const ents = entities(doc);
  let operator = 'json';
  if (kind === 0 && ents.length > 0) {
    const [a, i] = pick(r, ents);
    a.splice(i, 1);
    operator = 'drop-entity';
  } else if (kind === 1 && ents.length > 0) {
    const [a, i] = pick(r, ents);
    a.splice(i, 0, structuredClone(a[i]));
    operator = 'duplicate-entity';
  } else if (kind === 2 && ents.length > 1) {
    const [a, i] = pick(r, ents);
    const [b, j] = pick(r, ents);
    a[i].name = b[j].name;
    operator = 'duplicate-id';
  } else if (kind === 3) {
    const refs = slots(doc).filter(([c, k]) => REF_FIELDS.includes(String(k)) && !Array.isArray(c));
    const sgLists = slots(doc).filter(([, k]) => k === 'securityGroups');
    if (refs.length > 0 && r() < 0.6) {
      const [c, k] = pick(r, refs);
      c[k] = pick(r, REF_TARGETS);
    } else if (sgLists.length > 0) {
      const [c, k] = pick(r, sgLists);
      if (Array.isArray(c[k])) c[k] = [...c[k], pick(r, [...REF_TARGETS, c[k][0] ?? 'sg-1'])];
    }
    operator = 'dangling-reference';
  } else if (kind === 4) {
    const all = slots(doc).filter(([c]) => !Array.isArray(c));
    if (all.length > 0) {
      const [c, k] = pick(r, all);
      delete c[k];
    }
    operator = 'drop-field';
  } else if (kind === 5) {
    const all = slots(doc);
    if (all.length > 0) {
      const [c, k] = pick(r, all);
      c[k] = pick(r, [
        '',
        -1,
        0,
        65536,
        4294967296,
        1.5,
        '1e309',
        true,
        null,
        [],
        {},
        'x'.repeat(300),
        pick(r, UNICODE),
        pick(r, BAD_ADDRESSES),
      ]);
    }
    operator = 'mistyped-field';
  } else {
    const text = JSON.stringify({ 'network-data': doc });
    return { operator: 'json-wrapper', text: r() < 0.5 ? text : text.replace(/:(\d+)/g, ':"$1"') };
  }
  return { operator, text: JSON.stringify(doc) };
};

/** The operators and their weights. */
const OPERATORS: readonly [Operator, number][] = [
  [flipByte, 3],
  [truncate, 1],
  [dropElement, 3],
  [duplicateElement, 2],
  [badAddress, 3],
  [badMac, 1],
  [unicodeValue, 2],
  [doctype, 1],
  [structural, 8],
];
const TOTAL = OPERATORS.reduce((n, [, w]) => n + w, 0);

/** One random mutant of `s` (sometimes two mutations stacked on the XML). */
export function mutate(s: FuzzSource, r: Rng): Mutant {
  let x = r() * TOTAL;
  for (const [op, w] of OPERATORS) {
    x -= w;
    if (x >= 0) continue;
    const m = op(s, r);
    if (m.text.startsWith('{') || r() > 0.15) return m;
    const again = mutate({ ...s, xml: m.text }, r);
    return { operator: `${m.operator}+${again.operator}`, text: again.text };
  }
  return flipByte(s, r);
}
