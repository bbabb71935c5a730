/**
 * Child process of test/daemon-retention.test.ts (run with `node --expose-gc --import tsx`):
 * the daemon's `Controller` on a generated document and a file store opened as the daemon
 * opens it, `warm` one-instance changes (added, removed, alternating), then `cycles` more; prints
 * as JSON the V8 heap's used bytes after full GCs before and after those `cycles`.
 * Usage: retention-child.ts DIR INSTANCES WARM CYCLES [daemon|default-history]
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../src/common/index.js';
import { Controller, DAEMON_STORE_HISTORY, DEFAULT_SETTINGS } from '../../src/reconciler/index.js';
import { openFileStore } from '../../src/store/index.js';
import { oneInstanceDocs, patchVersion } from '../../scripts/lib/view-edits.js';

const [dir, instancesArg, warmArg, cyclesArg, mode] = process.argv.slice(2);
const gc = (globalThis as { gc?: () => void }).gc;

async function main(): Promise<void> {
  if (dir === undefined || gc === undefined) throw new Error('usage: see the header');
  const gni = join(dir, 'gni.xml');
  const { xml0, added } = oneInstanceDocs(Number(instancesArg));
  writeFileSync(gni, xml0);
  const docs = [added, xml0];
  const store = await openFileStore(join(dir, 'store'), {
    fsync: false,
    ...(mode === 'default-history' ? {} : { historySize: DAEMON_STORE_HISTORY }),
  });
  const controller = new Controller({
    store,
    gniPath: gni,
    versionFile: join(dir, 'version'),
    settings: DEFAULT_SETTINGS,
    logger: silentLogger(),
    watchFile: false,
    resyncMs: 3_600_000,
  });
  let n = 0;
  const cycle = async (): Promise<void> => {
    const version = `b${String(n).padStart(7, '0')}`;
    writeFileSync(`${gni}.tmp`, patchVersion(docs[n % 2]!, 'a0000000', version));
    renameSync(`${gni}.tmp`, gni);
    n++;
    const r = await controller.runCycle();
    if (r.result !== 'applied' || r.parse !== 'incremental')
      throw new Error(`cycle ${n}: ${r.result} ${r.parse ?? ''} ${r.error ?? ''}`);
  };
  const used = (): number => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
  if ((await controller.runCycle()).result !== 'applied') throw new Error('cold build failed');
  for (let i = 0; i < Number(warmArg); i++) await cycle();
  const before = used();
  for (let i = 0; i < Number(cyclesArg); i++) await cycle();
  const after = used();
  await store.close();
  process.stdout.write(JSON.stringify({ before, after }) + '\n');
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
