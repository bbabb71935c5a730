/**
 * Child process of the store crash test: commits transactions with known content to the file
 * store in DIR and prints `begin <create|delete> <group>` before each commit and
 * `ack <revision> <create|delete> <group>` after it is acknowledged (stdout to a pipe is synchronous on Linux, so a printed ack is never lost to SIGKILL).
 * A group is a chain `g<n>` (metadata `size`) plus that many rules plus a port `g<n>-p` of the
 * router `hub`: all or none must exist. The hub's port list grows long, so most records hold
 * list edits of it (journal format 3) rather than the router whole.
 * Every fourth group is created, and every other delete made, by a bulk commit (`bulkCreate`,
 * `bulkDelete`), which the file store writes as a whole new generation.
 * Usage: node --import tsx test/helpers/store-crash-writer.ts DIR FIRST_GROUP [SNAPSHOT_EVERY]
 */
import { openFileStore, type Op, type WritableOf } from '../../src/store/index.js';

const [dir, firstArg, everyArg] = process.argv.slice(2);
if (!dir || !firstArg)
  throw new Error('usage: store-crash-writer DIR FIRST_GROUP [SNAPSHOT_EVERY]');
const store = await openFileStore(dir, { snapshotEvery: Number(everyArg ?? 25) });
if ((await store.get('router', 'hub')) === undefined)
  await store.transaction([
    { op: 'create', kind: 'router', object: { id: 'hub', name: 'hub' } as WritableOf<'router'> },
  ]);
process.stdout.write('ready\n');
const live: string[] = (await store.list('chain')).map((c) => c.id);
for (let n = Number(firstArg); ; n++) {
  const id = `g${n}`;
  const size = 1 + (n % 7);
  const ops: Op[] = [
    {
      op: 'create',
      kind: 'chain',
      object: {
        id,
        name: id,
        metadata: [{ key: 'size', value: String(size) }],
      } as WritableOf<'chain'>,
    },
  ];
  for (let i = 0; i < size; i++) {
    ops.push({
      op: 'create',
      kind: 'rule',
      object: { id: `${id}-r${i}`, chainId: id, type: 'accept', nwProto: 6 } as WritableOf<'rule'>,
    });
  }
  ops.push({
    op: 'create',
    kind: 'port',
    object: { id: `${id}-p`, type: 'Router', routerId: 'hub' } as WritableOf<'port'>,
  });
  // every fourth group as a bulk commit (written as the next generation, not a journal record)
  const bulk = n % 4 === 1;
  process.stdout.write(`begin create ${id}\n`);
  const { revision } = bulk
    ? await store.bulkCreate!(ops as Extract<Op, { op: 'create' }>[])
    : await store.transaction(ops);
  process.stdout.write(`ack ${revision} create ${id}\n`);
  live.push(id);
  if (n % 3 === 0 && live.length > 4) {
    const victim = live.splice(n % live.length, 1)[0]!;
    process.stdout.write(`begin delete ${victim}\n`);
    const del = [
      { op: 'delete', kind: 'chain', id: victim },
      { op: 'delete', kind: 'port', id: `${victim}-p` },
    ] as const;
    const r = n % 2 === 0 ? await store.bulkDelete!(del) : await store.transaction(del);
    process.stdout.write(`ack ${r.revision} delete ${victim}\n`);
  }
}
