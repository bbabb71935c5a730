import { expect } from 'chai';
import { FIELDS } from './fields.js';
import { isIdString, isIpv4String, keepsByField } from './keeps.js';
import { checkValue } from './validate.js';

/** The rules the quick checks replace, as regular expressions. */
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** A deterministic pseudo-random source. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

function randomString(r: () => number, alphabet: string, maxLength: number): string {
  const n = Math.floor(r() * (maxLength + 1));
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(r() * alphabet.length)];
  return s;
}

const frozen = <T>(v: T): T => Object.freeze(v);
const SAMPLES: unknown[] = [
  undefined,
  null,
  true,
  false,
  0,
  -1,
  1.5,
  17,
  255,
  256,
  4095,
  65535,
  65536,
  2 ** 32,
  Number.NaN,
  '',
  'a',
  '-a',
  'a b',
  'x'.repeat(128),
  'x'.repeat(129),
  'é',
  '91a85500-9c08-82c8-94ff-8f79a402e0ca',
  'rule:eucabr_infilter:1',
  '1.2.3.4',
  '0.0.0.0',
  '255.255.255.255',
  '01.2.3.4',
  '256.1.1.1',
  '1.2.3',
  '1.2.3.4.5',
  '1.2.3.4 ',
  '02:aa:bb:cc:dd:ee',
  '02:AA:bb:cc:dd:ee',
  'ffff.ffff.ffff',
  'FFFF.ffff.ffff',
  'accept',
  'jump',
  'Router',
  'Normal',
  'gre',
  'any',
  {},
  [],
  frozen([]),
  frozen(['1.2.3.4', '10.0.0.1']),
  frozen(['1.2.3.4', '01.0.0.1']),
  ['1.2.3.4'],
  frozen(['91a85500-9c08-82c8-94ff-8f79a402e0ca']),
  frozen([, '1.2.3.4']),
  frozen({ start: 1, end: 2 }),
  frozen([frozen({ key: 'k', value: 'v' })]),
];

describe('store quick field checks (keeps)', () => {
  it('accept exactly the ids and IPv4 addresses the regular expressions accept', () => {
    const r = rng(7);
    for (let i = 0; i < 20000; i++) {
      const id = randomString(r, 'aZ09._:- é/', i % 10 === 0 ? 140 : 12);
      expect(isIdString(id), JSON.stringify(id)).to.equal(ID.test(id));
      const ip = randomString(r, '0123456789....25 a', 17);
      expect(isIpv4String(ip), JSON.stringify(ip)).to.equal(IPV4.test(ip));
    }
    for (const ip of ['0.0.0.0', '255.255.255.255', '10.20.0.2', '199.249.250.9'])
      expect(isIpv4String(ip)).to.equal(true);
    for (const ip of ['00.0.0.0', '1.2.3.256', '1..2.3', '.1.2.3', '1.2.3.4.', '1.2.3.1000'])
      expect(isIpv4String(ip)).to.equal(false);
  });

  it('keep a value only when the full check keeps it as it is, for every field of every kind', () => {
    let kept = 0;
    for (const fields of Object.values(FIELDS)) {
      const keeps = keepsByField(fields);
      for (const name of Object.keys(fields)) {
        // twice each, the second time right after itself (what a check remembers)
        for (const v of [...SAMPLES, ...SAMPLES.map((s) => [s, s]).flat()]) {
          if (!keeps[name]!(v)) continue;
          kept++;
          expect(checkValue(fields[name]!, v, name), `${name} ${String(v)}`).to.equal(v);
        }
      }
    }
    expect(kept).to.be.greaterThan(100);
  });

  it('keep a nested object only when frozen, plain, of known valid fields, with nothing to add', () => {
    const rule = keepsByField(FIELDS.rule);
    const dhcp = keepsByField(FIELDS['dhcp-subnet']);
    const getter = Object.freeze(
      Object.defineProperty({ start: 1 }, 'end', { get: () => 2, enumerable: true }),
    );
    expect(rule['tpSrc']!(frozen({ start: 1, end: 2 }))).to.equal(true);
    expect(rule['tpSrc']!({ start: 1, end: 2 })).to.equal(false); // not frozen
    expect(rule['tpSrc']!(frozen({ start: 1, end: 2, x: 1 }))).to.equal(false); // unknown
    expect(rule['tpSrc']!(frozen({ start: 1 }))).to.equal(false); // required end missing
    expect(rule['tpSrc']!(frozen({ start: 1, end: 70000 }))).to.equal(false); // out of range
    expect(rule['tpSrc']!(getter)).to.equal(false);
    const host = { macAddr: '02:aa:bb:cc:dd:ee', ipAddr: '10.0.0.2' };
    const hosts = (h: object) => frozen([frozen({ ...h, extraDhcpOpts: frozen([]) })]);
    expect(dhcp['hosts']!(hosts({ ...host, name: 'i-1' }))).to.equal(true);
    expect(dhcp['hosts']!(hosts(host))).to.equal(false); // the default name is to be added
    for (const v of [hosts({ ...host, name: 'i-1' }), hosts(host), getter])
      if (dhcp['hosts']!(v))
        expect(checkValue(FIELDS['dhcp-subnet']['hosts']!, v, 'hosts')).to.equal(v);
  });
});
