/**
 * Hostile and malformed input: every case gets a document-level rejection with a clear code
 * and message, and nothing throws or hangs. Big inputs are generated here, never committed.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { readGni, type ReadResult } from './index.js';

const small = readFileSync(
  fileURLToPath(new URL('../../fixtures/gni/small.xml', import.meta.url)),
  'utf8',
);

function rejected(r: ReadResult, code: string, message?: RegExp): void {
  expect(r.view, JSON.stringify(r.issues)).to.equal(undefined);
  const errors = r.issues.filter((i) => i.severity === 'error');
  expect(errors.map((e) => e.code)).to.include(code);
  if (message !== undefined) expect(errors.map((e) => e.message).join(' | ')).to.match(message);
}

describe('gni hostile input', () => {
  it('empty and blank documents', () => {
    rejected(readGni(''), 'empty-document', /empty/);
    rejected(readGni(new Uint8Array(0)), 'empty-document');
    rejected(readGni('  \n\t '), 'empty-document');
    rejected(readGni('\ufeff'), 'empty-document');
  });

  it('truncated documents, at every cut of a real document', () => {
    const step = Math.max(1, Math.floor(small.length / 300));
    for (let cut = 1; cut < small.length - 20; cut += step) {
      const r = readGni(small.slice(0, cut));
      expect(r.view, `cut at ${cut}`).to.equal(undefined);
      expect(r.issues[0]!.severity).to.equal('error');
    }
    rejected(readGni(small.slice(0, small.length / 2)), 'truncated', /truncated|ends inside/);
  });

  it('binary garbage', () => {
    const bytes = new Uint8Array(4096);
    let x = 12345;
    for (let i = 0; i < bytes.length; i++) bytes[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    const r = readGni(bytes);
    expect(r.view).to.equal(undefined);
    expect(r.issues[0]!.code).to.be.oneOf(['invalid-utf8', 'not-gni', 'invalid-character']);
    rejected(readGni(new Uint8Array([0xff, 0xfe, 0x00, 0x3c])), 'invalid-utf8', /UTF-8/);
    rejected(readGni('\u0000\u0001\u0002'), 'not-gni');
    rejected(readGni('<network-data>\u0000</network-data>'), 'invalid-character', /U\+0000/);
  });

  it('a byte-order mark is accepted (bytes and string)', () => {
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(small)]);
    expect(readGni(bom).view).to.not.equal(undefined);
    expect(readGni(`\ufeff${small}`).view).to.not.equal(undefined);
  });

  it('wrong root, not XML, not JSON', () => {
    rejected(readGni('<html><body/></html>'), 'wrong-root', /expected <network-data>/);
    rejected(readGni('hello'), 'not-gni');
    rejected(readGni('[1,2,3]'), 'not-gni');
    rejected(readGni('{"a":'), 'invalid-json');
    rejected(readGni('{"network-data": 5, "x": 1}'), 'missing-configuration');
  });

  it('not well-formed XML', () => {
    rejected(
      readGni('<network-data><configuration></vpcs></network-data>'),
      'not-well-formed',
      /expected <\/configuration>/,
    );
    rejected(
      readGni('<network-data></network-data><network-data/>'),
      'not-well-formed',
      /more than one root/,
    );
    rejected(readGni('<network-data a=1/>'), 'not-well-formed', /not quoted/);
    rejected(readGni('<network-data a="<"/>'), 'not-well-formed');
    rejected(
      readGni(
        '<network-data>&bogus;</network-data>'.replace(
          '>&',
          '><configuration><property name="mode"><value>&',
        ),
      ),
      'bad-reference',
    );
  });

  it('entity declarations are refused and never expanded (billion laughs, external entities)', () => {
    const laughs =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>' +
      '<network-data>&lol2;</network-data>';
    rejected(readGni(laughs), 'doctype-entities', /never expanded/);
    const external =
      '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><network-data>&xxe;</network-data>';
    rejected(readGni(external), 'doctype-entities');
    rejected(
      readGni('<network-data><configuration>&xxe;</configuration></network-data>'),
      'bad-reference',
    );
  });

  it('deep nesting is capped, in XML and in JSON', () => {
    const depth = 100_000;
    rejected(
      readGni(`<network-data>${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}</network-data>`),
      'too-deep',
      /64/,
    );
    const r = readGni(`{"configuration":${'{"property":['.repeat(5000)}${']}'.repeat(5000)}}`);
    expect(r.view).to.equal(undefined);
    const json = readGni(`${'['.repeat(200_000)}${']'.repeat(200_000)}`);
    expect(json.view).to.equal(undefined);
  });

  it('a huge value is refused, not kept', () => {
    const big = 'x'.repeat(2 * 1024 * 1024);
    rejected(readGni(`<network-data version="${big}"/>`), 'value-too-large', /longer than/);
    rejected(
      readGni(small.replace('<value>VPCMIDO</value>', `<value>${big}</value>`)),
      'value-too-large',
    );
  });

  it('a document over maxBytes is refused before parsing', () => {
    rejected(readGni(small, { maxBytes: 100 }), 'too-large', /over the 100-byte limit/);
    rejected(readGni(new TextEncoder().encode(small), { maxBytes: 100 }), 'too-large');
  });

  it('a 100 MB document of unknown elements is read linearly and accepted', () => {
    const unit = '<futureThing a="1"><b>text</b></futureThing>';
    const filler = unit.repeat(Math.ceil((100 * 1024 * 1024) / unit.length));
    const doc = small.replace('<vpcs>', `<futureSection>${filler}</futureSection><vpcs>`);
    const r = readGni(doc);
    expect(r.view).to.not.equal(undefined);
    expect(r.issues.map((i) => i.code)).to.deep.equal(['unknown-element']);
  });

  it('a flood of issues is bounded', () => {
    const doc = small.replace('<vpcs>', `${'<junk/>'.repeat(5000)}<vpcs>`);
    const r = readGni(doc);
    expect(r.view).to.not.equal(undefined);
    expect(r.issues.length).to.equal(1001);
    expect(r.issues.at(-1)!.code).to.equal('too-many-issues');
  });
});
