/**
 * Checks the module boundaries of house-style.md: dependencies point one way
 * (bin → api/datapath → reconciler → {mapping, discovery} → {gni, store} → common), and a
 * module imports another only through its `index.ts`. Prints each violation; exit 1 if any.
 * Usage: npx tsx scripts/check-imports.ts
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Which modules each module may import (besides itself). */
export const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  common: [],
  gni: ['common'],
  store: ['common'],
  mapping: ['common', 'gni', 'store'],
  discovery: ['common', 'store'],
  reconciler: ['common', 'gni', 'store', 'mapping', 'discovery'],
  api: ['common', 'store'],
  datapath: ['common', 'store', 'api'],
};

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Returns the violations found under `root/src`. */
export function checkImports(root: string): string[] {
  const src = join(root, 'src');
  const problems: string[] = [];
  for (const file of files(src)) {
    const from = relative(src, file).split('/')[0]!;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]/g)) {
      const target = resolve(dirname(file), m[1]!);
      const rel = relative(src, target);
      if (rel.startsWith('..')) continue;
      const [to, ...rest] = rel.split('/');
      if (to === from) continue;
      const where = `${relative(root, file)}: imports ${m[1]}`;
      if (!(ALLOWED[from] ?? []).includes(to!))
        problems.push(`${where} (${from} may not depend on ${to})`);
      else if (rest.join('/') !== 'index.js')
        problems.push(`${where} (import ${to} through its index.ts)`);
    }
  }
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const problems = checkImports(root);
  for (const p of problems) console.log(p);
  console.log(problems.length === 0 ? 'imports ok' : `${problems.length} violation(s)`);
  process.exit(problems.length === 0 ? 0 : 1);
}
