/** The generator: deterministic per seed, realistic, and valid (zero errors when read back). */
import { expect } from 'chai';
import { readGni, writeGniJson, writeGniXml } from './index.js';
import { generateView } from '../../scripts/lib/gni-generator.js';

describe('gni generator', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = writeGniJson(generateView({ size: 'S', seed: 7 }));
    expect(writeGniJson(generateView({ size: 'S', seed: 7 }))).to.equal(a);
    expect(writeGniJson(generateView({ size: 'S', seed: 8 }))).to.not.equal(a);
  });

  for (const seed of [1, 2, 3]) {
    it(`M document (seed ${seed}) reads back with zero issues and an equal view, in XML and JSON`, () => {
      const view = generateView({ size: 'M', seed });
      const xml = readGni(writeGniXml(view));
      expect(xml.issues.filter((i) => i.severity === 'error')).to.deep.equal([]);
      expect(xml.issues).to.deep.equal([]);
      expect(xml.view!.invalid.size).to.equal(0);
      expect(writeGniJson(xml.view!)).to.equal(writeGniJson(view));
      expect(xml.view!.instances.map((i) => i.node)).to.deep.equal(
        view.instances.map((i) => i.node),
      );
      const json = readGni(writeGniJson(view));
      expect(json.issues).to.deep.equal([]);
    });
  }

  it('is realistic: sizes, sorting, EIPs, NAT routes, secondary ENIs, group references', () => {
    const v = generateView({ size: 'M', seed: 1 });
    expect(v.instances).to.have.length(1000);
    expect(v.vpcs.length).to.be.within(70, 140);
    const ids = v.instances.map((i) => i.id);
    expect(ids).to.deep.equal([...ids].sort());
    const eips = v.instances.flatMap((i) =>
      i.networkInterfaces.flatMap((e) => (e.publicIp ? [e.publicIp] : [])),
    );
    expect(eips.length).to.be.greaterThan(100);
    expect(new Set(eips).size).to.equal(eips.length);
    expect(v.instances.some((i) => i.networkInterfaces.length > 1)).to.equal(true);
    expect(v.vpcs.some((x) => x.natGateways.length > 0)).to.equal(true);
    const targets = new Set(
      v.vpcs.flatMap((x) => x.routeTables.flatMap((r) => r.routes.map((t) => t.target?.type))),
    );
    expect([...targets].sort()).to.deep.equal([
      'internetGateway',
      'local',
      'natGateway',
      'networkInterface',
    ]);
    expect(v.securityGroups.some((g) => g.ingressRules.some((r) => r.groupId === g.id))).to.equal(
      true,
    );
    expect(
      v.instances.every((i) =>
        i.networkInterfaces.every((e) => e.macAddress!.startsWith('d0:0d:')),
      ),
    ).to.equal(true);
    expect(v.configuration.mido!.gateways.length).to.be.within(1, 2);
    expect(v.configuration.clusters.map((c) => c.name)).to.deep.equal(['az1', 'az2']);
  });

  it('shared-peer: two gateways on one network peer with the same BGP router, zero issues', () => {
    const view = generateView({ size: 'S', seed: 2, gateways: 'shared-peer' });
    const gws = view.configuration.mido!.gateways;
    expect(gws.map((g) => g.bgpPeerIp)).to.deep.equal(['192.0.2.1', '192.0.2.1']);
    expect(new Set(gws.map((g) => g.host)).size).to.equal(2);
    expect(new Set(gws.map((g) => g.externalIp)).size).to.equal(2);
    const read = readGni(writeGniXml(view));
    expect(read.issues).to.deep.equal([]);
    expect(writeGniJson(read.view!)).to.equal(writeGniJson(view));
    // everything but the gateways is the default document of the same seed
    const mixed = generateView({ size: 'S', seed: 2 });
    expect(writeGniJson({ ...view, configuration: mixed.configuration })).to.equal(
      writeGniJson(mixed),
    );
  });
});
