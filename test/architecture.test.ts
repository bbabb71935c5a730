/** Module boundaries (house-style.md): one-way dependencies, imports through index.ts. */
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkImports } from '../scripts/check-imports.js';
import { repoPath } from './helpers/gni-doc.js';

describe('architecture', () => {
  it('src/ respects the dependency direction and imports modules through their index', () => {
    expect(checkImports(repoPath(''))).to.deep.equal([]);
  });

  it('the check catches a backwards dependency and a deep import', () => {
    const root = mkdtempSync(join(tmpdir(), 'arch-'));
    try {
      for (const m of ['gni', 'mapping', 'store'])
        mkdirSync(join(root, 'src', m), { recursive: true });
      writeFileSync(join(root, 'src/gni/a.ts'), "import { x } from '../mapping/index.js';\n");
      writeFileSync(
        join(root, 'src/mapping/b.ts'),
        "import type { y } from '../store/types.js';\n",
      );
      const problems = checkImports(root);
      expect(problems).to.have.length(2);
      expect(problems[0]).to.match(/gni may not depend on mapping/);
      expect(problems[1]).to.match(/through its index/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('tests, scripts, sources and the README read nothing outside the repository', () => {
    // A plain clone must pass `npm test`: the shared samples live in fixtures/gni/.
    const outside = /\.\.\/shared\/samples|\/work\/shared|\/work\/main/;
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(repoPath(dir), { withFileTypes: true })) {
        const rel = `${dir}/${e.name}`;
        if (e.isDirectory()) walk(rel);
        else if (/\.(ts|js|json|md)$/.test(e.name) || e.name === 'eucanetd') {
          const lines = readFileSync(repoPath(rel), 'utf8').split('\n');
          lines.forEach((line, i) => {
            if (outside.test(line) && !line.includes('outside-repo-ok'))
              offenders.push(`${rel}:${i + 1}`);
          });
        }
      }
    };
    for (const d of ['src', 'test', 'scripts', 'bin', '.ci']) walk(d);
    for (const f of ['README.md', 'package.json']) {
      if (outside.test(readFileSync(repoPath(f), 'utf8'))) offenders.push(f);
    }
    expect(offenders).to.deep.equal([]);
  });
});
