/**
 * GNI read benchmark: generates the L and XL documents (or reads the files given) and, for
 * each parser, prints throughput (MB/s, median of runs) and peak heap (max heap in use seen
 * by the GC, minus the heap before the read, as a multiple of the document size).
 *   npx tsx scripts/bench-gni.ts [--sizes L,XL] [--runs 5] [--seed 1]
 * Each measurement runs in a fresh child process (node --trace-gc) so heaps do not mix.
 * Parsers: gni-xml (readGni on XML: scan + build + validate), gni-json (readGni on the JSON
 * form), saxes-tokenize (saxes with empty handlers: tokenizing only), saxes-tree (saxes
 * building a generic element tree, no validation).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { SaxesParser } from 'saxes';
import { readGni, writeGniJson, writeGniXml } from '../src/gni/index.js';
import { generateView, type Size } from './lib/gni-generator.js';

const PARSERS = ['gni-xml', 'gni-json', 'saxes-tokenize', 'saxes-tree'] as const;
type Parser = (typeof PARSERS)[number];

interface Element {
  name: string;
  attrs: Record<string, string>;
  children: Element[];
  text: string;
}

/** Runs one parser once over `buf`; returns something derived from the result to keep it alive. */
function parseOnce(parser: Parser, buf: Buffer): unknown {
  switch (parser) {
    case 'gni-xml':
    case 'gni-json': {
      const r = readGni(buf);
      if (r.view === undefined)
        throw new Error(`rejected: ${JSON.stringify(r.issues.slice(0, 3))}`);
      return r;
    }
    case 'saxes-tokenize': {
      const p = new SaxesParser();
      let n = 0;
      p.on('opentag', () => n++);
      p.on('text', () => n++);
      p.write(buf.toString('utf8')).close();
      return n;
    }
    case 'saxes-tree': {
      const p = new SaxesParser();
      const root: Element = { name: '', attrs: {}, children: [], text: '' };
      const stack = [root];
      p.on('opentag', (t) => {
        const e: Element = {
          name: t.name,
          attrs: t.attributes as Record<string, string>,
          children: [],
          text: '',
        };
        stack[stack.length - 1]!.children.push(e);
        stack.push(e);
      });
      p.on('text', (t) => {
        stack[stack.length - 1]!.text += t;
      });
      p.on('closetag', () => void stack.pop());
      p.write(buf.toString('utf8')).close();
      return root;
    }
  }
}

/** Child mode: one parser, one file; prints `ms heapBeforeMB` as JSON; GC lines go to stdout too. */
function child(parser: Parser, file: string, runs: number): void {
  const buf = readFileSync(file);
  const gc = (globalThis as { gc?: () => void }).gc!;
  const times: number[] = [];
  let keep: unknown;
  for (let i = 0; i < runs; i++) {
    keep = undefined;
    gc();
    const before = process.memoryUsage().heapUsed;
    console.log(`BEGIN ${before}`);
    const t = performance.now();
    keep = parseOnce(parser, buf);
    times.push(performance.now() - t);
    console.log(`END ${process.memoryUsage().heapUsed}`);
    gc();
    console.log(`RETAINED ${process.memoryUsage().heapUsed}`);
  }
  console.log(`RESULT ${JSON.stringify({ times, kept: keep !== undefined })}`);
}

interface Measure {
  readonly mbps: number;
  readonly ms: number;
  readonly peakRatio: number;
  readonly retainedRatio: number;
}

/** Parses the child's output: per run, peak = max(GC "before" sizes, END) - BEGIN. */
function measure(parser: Parser, file: string, bytes: number, runs: number): Measure {
  const self = fileURLToPath(import.meta.url);
  const out = execFileSync(
    process.execPath,
    [
      '--expose-gc',
      '--trace-gc',
      '--import',
      'tsx',
      self,
      '--child',
      parser,
      '--file',
      file,
      '--runs',
      String(runs),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 28 },
  );
  let begin = 0;
  let peak = 0;
  const peaks: number[] = [];
  const retained: number[] = [];
  let times: number[] = [];
  for (const line of out.split('\n')) {
    if (line.startsWith('BEGIN ')) {
      begin = Number(line.slice(6));
      peak = begin;
    } else if (line.startsWith('END ')) {
      const end = Number(line.slice(4));
      peaks.push(Math.max(peak, end) - begin);
    } else if (line.startsWith('RETAINED ')) {
      retained.push(Number(line.slice(9)) - begin);
    } else if (line.startsWith('RESULT ')) {
      times = (JSON.parse(line.slice(7)) as { times: number[] }).times;
    } else {
      const m = /: \S+(?: \([^)]*\))? ([\d.]+) \(([\d.]+)\) -> ([\d.]+)/.exec(line);
      if (m !== null) peak = Math.max(peak, Number(m[1]) * 1024 * 1024);
    }
  }
  // The first run warms the JIT; report the median of the others (or of all if only one).
  const warm = times.length > 1 ? times.slice(1) : times;
  const ms = [...warm].sort((a, b) => a - b)[Math.floor(warm.length / 2)]!;
  const maxPeak = Math.max(...peaks);
  return {
    ms,
    mbps: bytes / 1e6 / (ms / 1000),
    peakRatio: maxPeak / bytes,
    retainedRatio: Math.max(...retained) / bytes,
  };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      file: { type: 'string' },
      sizes: { type: 'string', default: 'L,XL' },
      runs: { type: 'string', default: '5' },
      seed: { type: 'string', default: '1' },
      parsers: { type: 'string', default: PARSERS.join(',') },
    },
  });
  const runs = Number(values.runs);
  if (values.child !== undefined) return child(values.child as Parser, values.file!, runs);
  const dir = mkdtempSync(join(tmpdir(), 'bench-gni-'));
  try {
    console.log('size  format  MB      parser          ms      MB/s   peak-heap/doc  retained/doc');
    for (const size of values.sizes.split(',') as Size[]) {
      const view = generateView({ size, seed: Number(values.seed) });
      const xml = join(dir, `${size}.xml`);
      const json = join(dir, `${size}.json`);
      writeFileSync(xml, writeGniXml(view));
      writeFileSync(json, writeGniJson(view));
      for (const parser of values.parsers.split(',') as Parser[]) {
        const file = parser === 'gni-json' ? json : xml;
        const bytes = readFileSync(file).length;
        const m = measure(parser, file, bytes, runs);
        console.log(
          `${size.padEnd(5)} ${(parser === 'gni-json' ? 'json' : 'xml').padEnd(7)} ${(bytes / 1e6).toFixed(1).padEnd(7)} ` +
            `${parser.padEnd(15)} ${m.ms.toFixed(0).padStart(6)} ${m.mbps.toFixed(1).padStart(7)} ` +
            `${m.peakRatio.toFixed(2).padStart(13)} ${m.retainedRatio.toFixed(2).padStart(13)}`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
