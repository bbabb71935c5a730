/**
 * Chunked reading of XML bytes (`readGniInChunks`): whatever the chunk size, the view and the
 * issues are those of reading the whole text at once, including for documents whose chunk
 * ends fall inside comments, CDATA sections, attribute values or broken markup (those are read
 * again as a whole).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { readGni, type ReadResult } from './index.js';
import { IssueSink } from './issues.js';
import { readGniInChunks } from './read.js';
import { chunkEnd, XmlChunkScanner } from './xml-scanner.js';

const dir = fileURLToPath(new URL('../../fixtures/gni/', import.meta.url));
const encoder = new TextEncoder();
const SIZES = [1, 5, 64, 1000, 1 << 16];

/** View (invalid set as a sorted list) and issues, for comparison. */
function outcome(r: ReadResult): unknown {
  const view =
    r.view === undefined ? undefined : { ...r.view, invalid: [...r.view.invalid].sort() };
  return { view, issues: r.issues, format: r.format };
}

/** Reads `text` as bytes in chunks of every size of SIZES and as one string: all equal. */
function sameInChunks(text: string, bytes: Uint8Array = encoder.encode(text)): void {
  const whole = outcome(readGni(text));
  for (const size of SIZES) {
    expect(outcome(readGniInChunks(bytes, {}, size)), `chunks of ${size}`).to.deep.equal(whole);
  }
}

describe('gni chunked reading', () => {
  for (const name of ['small', 'medium', 'nat-eip', 'edge-cases']) {
    it(`${name}.xml: same view and issues in chunks of any size`, () => {
      sameInChunks(readFileSync(`${dir}${name}.xml`, 'utf8'));
    });
  }

  it('scans the fixtures chunk by chunk without falling back', () => {
    for (const name of ['small', 'medium', 'nat-eip', 'edge-cases']) {
      const bytes = readFileSync(`${dir}${name}.xml`);
      const scanner = new XmlChunkScanner(new IssueSink());
      let chunks = 0;
      for (let from = 0; from < bytes.length; chunks++) {
        const end = chunkEnd(bytes, from + 64);
        const text = new TextDecoder().decode(bytes.subarray(from, end));
        expect(scanner.feed(text, 0, end === bytes.length), `${name} chunk ${chunks}`).to.equal(
          true,
        );
        from = end;
      }
      expect(chunks).to.be.greaterThan(5);
      expect(scanner.root).to.not.equal(undefined);
    }
  });

  it('close tags inside comments, CDATA, PIs, DOCTYPE and attribute values', () => {
    const small = readFileSync(`${dir}small.xml`, 'utf8');
    const at = small.indexOf('<configuration>');
    const insert = (s: string): string => small.slice(0, at) + s + small.slice(at);
    sameInChunks(insert('<!-- </a> </b> --><?pi </c> ?>'));
    sameInChunks(insert('<unknown><![CDATA[</a> ]]> </b> ]]></unknown>'));
    sameInChunks(insert('<unknown a="</b>" />'));
    sameInChunks(insert("<unknown a='x'>text &gt; more > </unknown>"));
    sameInChunks(`<!DOCTYPE network-data "</x>">${small.slice(small.indexOf('<network-data'))}`);
    sameInChunks(
      `<?xml version="1.0"?><!-- </x> -->\n${small.slice(small.indexOf('<network-data'))}`,
    );
  });

  it('hostile input gives the same rejection in chunks', () => {
    const small = readFileSync(`${dir}small.xml`, 'utf8');
    const step = Math.max(1, Math.floor(small.length / 60));
    for (let cut = 1; cut < small.length; cut += step) sameInChunks(small.slice(0, cut));
    const late = small.length - 40;
    sameInChunks(`${small.slice(0, late)}\u0001${small.slice(late)}`);
    sameInChunks(`${small.slice(0, late)}&xxe;${small.slice(late)}`);
    sameInChunks(`${small}<network-data/>`);
    sameInChunks(`\ufeff${small}`);
    sameInChunks(`  \n${small}\n  `);
    sameInChunks('');
    sameInChunks('   ');
    sameInChunks('<html><body/></html>');
    sameInChunks(`<network-data>${'<a>'.repeat(70)}${'</a>'.repeat(70)}</network-data>`);
    const bytes = encoder.encode(small);
    const bad = new Uint8Array([...bytes.subarray(0, late), 0xff, ...bytes.subarray(late)]);
    const whole = outcome(readGni(bad));
    expect((whole as { issues: { code: string }[] }).issues[0]!.code).to.equal('invalid-utf8');
    for (const size of SIZES) {
      expect(outcome(readGniInChunks(bad, {}, size))).to.deep.equal(whole);
    }
  });

  it('non-ASCII text is split only between characters', () => {
    const small = readFileSync(`${dir}small.xml`, 'utf8');
    const at = small.indexOf('<configuration>');
    sameInChunks(`${small.slice(0, at)}<unknown>été ✓ 😀</unknown><x é="ü"/>${small.slice(at)}`);
  });
});
