/**
 * The store, the discovered actual topology and the mapping's desired objects share the
 * topology's nested values (one copy): a write through the API replaces the stored object and
 * never reaches the objects the mapping and discovery hold, and those cannot be mutated.
 */
import { expect } from 'chai';
import { createApiClient } from '../src/api/index.js';
import { startTestApiServer } from '../src/api/testing.js';
import { DEFAULT_MAPPING_CONFIG } from '../src/mapping/index.js';
import { reconcileView } from '../src/reconciler/index.js';
import { createMemoryStore, openFileStore, type TopologyStore } from '../src/store/index.js';
import { loadDoc, repoPath, viewOf } from './helpers/gni-doc.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const view = viewOf(loadDoc(repoPath('fixtures/gni/medium.xml')));

async function scenario(store: TopologyStore): Promise<void> {
  const server = await startTestApiServer(store);
  const client = createApiClient({ url: server.url, token: server.token });
  try {
    const r = await reconcileView(store, view, DEFAULT_MAPPING_CONFIG);
    // a security group's address group with members: its list is held once
    const desired = [...r.mapping.desired['ip-addr-group'].values()].find(
      (g) => (g.addresses ?? []).length > 1,
    )!;
    expect(desired, 'an address group with members').to.not.equal(undefined);
    const stored = (await store.get('ip-addr-group', desired.id))!;
    expect(stored.addresses, 'stored and desired share the list').to.equal(desired.addresses);
    const desiredBefore = structuredClone(desired);
    const storedBefore = structuredClone(stored);

    // a write through the API (HTTP) changes the group's members and name
    await client.transaction([
      {
        op: 'update',
        kind: 'ip-addr-group',
        object: { ...stored, name: 'renamed', addresses: ['192.0.2.1'] } as never,
      },
    ]);
    const after = (await store.get('ip-addr-group', desired.id))!;
    expect(after.addresses).to.deep.equal(['192.0.2.1']);
    expect(after.name).to.equal('renamed');
    expect(desired, 'the mapping object is unchanged').to.deep.equal(desiredBefore);
    expect(stored, 'the object discovery and readers hold is unchanged').to.deep.equal(
      storedBefore,
    );

    // and nobody can change the shared values in place
    expect(() => (desired.addresses as string[]).push('192.0.2.2')).to.throw(TypeError);
    expect(() => ((desired.addresses as string[])[0] = '192.0.2.2')).to.throw(TypeError);
    expect(desired).to.deep.equal(desiredBefore);

    // the next cycle repairs the drift from the same desired objects; a second plans nothing
    const repair = await reconcileView(store, view, DEFAULT_MAPPING_CONFIG);
    expect(repair.plan.counts.update).to.equal(1);
    expect((await store.get('ip-addr-group', desired.id))!.addresses).to.deep.equal(
      desiredBefore.addresses,
    );
    const again = await reconcileView(store, view, DEFAULT_MAPPING_CONFIG, { dryRun: true });
    expect(again.plan.storeOps).to.deep.equal([]);
  } finally {
    await client.close();
    await server.close();
  }
}

describe('api: objects shared by the store, discovery and the mapping', function () {
  this.timeout(60_000);

  it('a write through the API leaves them unchanged (memory store)', async () => {
    const store = createMemoryStore();
    try {
      await scenario(store);
    } finally {
      await store.close();
    }
  });

  it('a write through the API leaves them unchanged (file store)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'api-sharing-'));
    const store = await openFileStore(join(dir, 'store'), { fsync: false });
    try {
      await scenario(store);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
