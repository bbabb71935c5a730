/** Module boundaries (house-style.md): one-way dependencies, imports through index.ts. */
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
});
