/**
 * Golden desired topologies: every GNI fixture (fixtures/gni/*.xml, which holds copies of the
 * shared samples as small.xml and medium.xml) is read with the real parser, mapped from empty
 * allocations with the default config, and compared with fixtures/mapping/<name>.txt (ids
 * shown as `@<key>`; issues and held owners at the end). Regenerate after a reviewed change
 * with `UPDATE_GOLDEN=1 npx mocha test/mapping-golden.test.ts`.
 */
import { expect } from 'chai';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readGni } from '../src/gni/index.js';
import {
  DEFAULT_MAPPING_CONFIG,
  emptyAllocations,
  mapTopology,
  mapTopologyWithKeys,
  serializeDesired,
} from '../src/mapping/index.js';
import { repoPath } from './helpers/gni-doc.js';

function inputs(): { name: string; path: string }[] {
  const out: { name: string; path: string }[] = [];
  const dir = repoPath('fixtures/gni');
  for (const f of readdirSync(dir)
    .filter((x) => x.endsWith('.xml'))
    .sort()) {
    out.push({ name: `gni-${basename(f, '.xml')}`, path: join(dir, f) });
  }
  return out;
}

function golden(path: string): string {
  const read = readGni(readFileSync(path));
  if (read.view === undefined) throw new Error(`${path} rejected`);
  const { result, keys } = mapTopologyWithKeys(
    read.view,
    emptyAllocations(),
    DEFAULT_MAPPING_CONFIG,
  );
  const tail = [
    `# held: ${JSON.stringify([...result.held].sort())}`,
    ...result.issues.map((i) => `# issue: ${i.severity} ${i.code} ${i.path}: ${i.message}`),
  ];
  return serializeDesired(result.desired, keys) + tail.join('\n') + '\n';
}

describe('mapping golden topologies', () => {
  for (const { name, path } of inputs()) {
    it(`maps ${name} to fixtures/mapping/${name}.txt`, () => {
      const actual = golden(path);
      const file = repoPath(`fixtures/mapping/${name}.txt`);
      if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(file)) writeFileSync(file, actual);
      expect(actual).to.equal(readFileSync(file, 'utf8'));
    });
  }

  it('gives byte-identical output for the same input (with and without the key map)', () => {
    for (const { path } of inputs()) {
      const view = readGni(readFileSync(path)).view!;
      const a = mapTopology(view, emptyAllocations(), DEFAULT_MAPPING_CONFIG);
      const b = mapTopology(view, a.allocations, DEFAULT_MAPPING_CONFIG);
      const c = mapTopologyWithKeys(view, emptyAllocations(), DEFAULT_MAPPING_CONFIG).result;
      expect(serializeDesired(b.desired)).to.equal(serializeDesired(a.desired));
      expect(serializeDesired(c.desired)).to.equal(serializeDesired(a.desired));
    }
  });
});
