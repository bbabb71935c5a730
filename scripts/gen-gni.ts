/**
 * Writes a generated GNI document:
 *   npx tsx scripts/gen-gni.ts --size L --seed 1 --format xml -o /tmp/gni-L.xml
 * Options: --size S|M|L|XL (default S), --instances N (overrides size), --seed N (default 1),
 * --format xml|json (default xml), -o FILE (default stdout).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { writeGniJson, writeGniXml } from '../src/gni/index.js';
import { generateView, SIZES, type Size } from './lib/gni-generator.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: 'S' },
    instances: { type: 'string' },
    seed: { type: 'string', default: '1' },
    format: { type: 'string', default: 'xml' },
    out: { type: 'string', short: 'o' },
  },
});
if (!Object.hasOwn(SIZES, values.size)) {
  console.error(`unknown size ${values.size} (expected ${Object.keys(SIZES).join(', ')})`);
  process.exit(2);
}
if (values.format !== 'xml' && values.format !== 'json') {
  console.error(`unknown format ${values.format} (expected xml or json)`);
  process.exit(2);
}
const view = generateView({
  size: values.size as Size,
  seed: Number(values.seed),
  ...(values.instances === undefined ? {} : { instances: Number(values.instances) }),
});
const text = values.format === 'xml' ? writeGniXml(view) : writeGniJson(view);
if (values.out === undefined) process.stdout.write(text);
else {
  writeFileSync(values.out, text);
  console.error(
    `wrote ${values.out}: ${view.instances.length} instances, ${view.vpcs.length} VPCs, ${text.length} bytes`,
  );
}
