import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { openStore, SCHEMA, verifyStore } from '../src/store/index.js';
import { router, routerPort } from './helpers/store-conformance.js';

describe('openStore and SCHEMA', () => {
  it('opens memory and file stores (with or without the file: prefix)', async () => {
    const mem = await openStore('memory:');
    await mem.transaction([router('r1')]);
    expect(await mem.revision()).to.equal(1);
    await mem.close();
    const dir = await mkdtemp(join(tmpdir(), 'store-open-'));
    try {
      const a = await openStore(`file:${dir}`);
      await a.transaction([router('r1'), routerPort('p1', 'r1')]);
      await a.close();
      expect((await stat(join(dir, 'journal.log'))).isFile()).to.equal(true);
      const b = await openStore(dir);
      expect((await b.get('router', 'r1'))?.portIds).to.deep.equal(['p1']);
      expect(await verifyStore(b)).to.deep.equal([]);
      await b.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exports the bindings table with the forward and back field of every binding', () => {
    const rows = SCHEMA.map(
      (b) =>
        `${b.forward.kind}.${b.forward.field}>${b.back.kind}.${b.back.field}:${b.back.onDelete}`,
    );
    expect(rows).to.include('port.bridgeId>bridge.portIds:CASCADE');
    expect(rows).to.include('rule.jumpChainId>chain.jumpRuleIds:ERROR');
    expect(rows).to.include('tunnel-zone.hosts>host.tunnelZoneIds:CLEAR');
    expect(SCHEMA.find((b) => b.forward.kind === 'tunnel-zone')?.forward.key).to.equal('hostId');
    expect(SCHEMA.filter((b) => b.symmetric).map((b) => b.forward.field)).to.deep.equal(['peerId']);
  });
});
