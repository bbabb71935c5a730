/**
 * Golden tests over fixtures/gni: each fixture's canonical JSON (`<name>.json`) and view dump
 * (`<name>.view.json`) are committed and compared; the issue list of edge-cases is golden too.
 * Regenerate after an intended change with `UPDATE_GOLDENS=1 npx mocha src/gni/fixtures.test.ts`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { readGni, writeGniJson, writeGniXml, type GlobalView } from './index.js';

const dir = fileURLToPath(new URL('../../fixtures/gni/', import.meta.url));
const update = process.env['UPDATE_GOLDENS'] === '1';

/** A deterministic dump of a view (the invalid set as a sorted list). */
function dumpView(view: GlobalView): string {
  return `${JSON.stringify({ ...view, invalid: [...view.invalid].sort() }, null, 2)}\n`;
}

function golden(name: string, actual: string): void {
  const path = `${dir}${name}`;
  if (update) writeFileSync(path, actual);
  expect(actual, `${name} differs from the golden file`).to.equal(readFileSync(path, 'utf8'));
}

function read(name: string): GlobalView {
  const r = readGni(readFileSync(`${dir}${name}`));
  expect(r.view, `${name} rejected: ${JSON.stringify(r.issues.slice(0, 3))}`).to.not.equal(
    undefined,
  );
  return r.view!;
}

describe('gni fixtures (golden)', () => {
  for (const name of ['small', 'medium', 'nat-eip', 'edge-cases']) {
    describe(name, () => {
      it('canonical JSON and view dump match the goldens', () => {
        const view = read(`${name}.xml`);
        golden(`${name}.json`, writeGniJson(view));
        golden(`${name}.view.json`, dumpView(view));
      });

      it('the JSON form gives a deep-equal view', () => {
        const fromXml = read(`${name}.xml`);
        const fromJson = read(`${name}.json`);
        expect(dumpView(fromJson)).to.equal(dumpView(fromXml));
      });

      it('XML → JSON → XML → JSON is stable', () => {
        const json1 = writeGniJson(read(`${name}.xml`));
        const xml2 = writeGniXml(readGni(json1).view!);
        const json2 = writeGniJson(readGni(xml2).view!);
        const xml3 = writeGniXml(readGni(json2).view!);
        expect(json2).to.equal(json1);
        expect(xml3).to.equal(xml2);
      });
    });
  }

  it('the clean fixtures have no issues at all', () => {
    for (const name of ['small', 'medium', 'nat-eip']) {
      const r = readGni(readFileSync(`${dir}${name}.xml`));
      expect(r.issues, name).to.deep.equal([]);
      expect(r.view!.invalid.size, name).to.equal(0);
    }
  });

  it('edge-cases: the issue list matches the golden', () => {
    const r = readGni(readFileSync(`${dir}edge-cases.xml`));
    golden('edge-cases.issues.json', `${JSON.stringify(r.issues, null, 2)}\n`);
  });

  it('edge-cases: tolerant reading gives the expected values', () => {
    const view = read('edge-cases.xml');
    const c = view.configuration;
    expect(c.enabledCLCIp).to.equal('10.20.0.10'); // padded value trimmed
    expect(c.instanceDNSDomain).to.equal('eucalyptus.internal'); // &#46; decoded
    expect(c.publicIps).to.deep.equal([]); // EDGE-2
    const [legacy, current] = c.mido!.gateways;
    expect(legacy).to.deep.include({
      host: 'gw-legacy.example.internal',
      externalIp: '192.0.2.50',
      externalDevice: 'em1.116',
    });
    expect(legacy!.externalCidr).to.equal('192.0.2.48/28'); // folded from publicNetworkCidr
    expect(legacy!.externalRouterIp).to.equal('192.0.2.49'); // folded from publicGatewayIP
    expect(current!.host).to.equal('10.20.0.22'); // ip overrides gatewayHost
    const byId = new Map(view.instances.map((i) => [i.id, i]));
    expect(byId.get('i-e1000001')!.node).to.equal('10.20.1.22'); // EDGE-4: last listing wins
    expect(byId.get('i-e1000001')!.networkInterfaces[0]!.sourceDestCheck).to.equal(false); // EDGE-15
    expect(byId.get('i-e1000001')!.privateIp).to.equal('10.30.1.12');
    const e16 = byId.get('i-0e1d2c3b4a5968778')!;
    expect(e16.ownerId).to.equal('000123456789'); // CDATA
    expect(e16.networkInterfaces[0]!.publicIp).to.equal(undefined); // empty = absent
    expect(e16.networkInterfaces[0]!.securityGroups).to.deep.equal([]);
    const vpc = view.vpcs[0]!;
    expect(vpc.cidr).to.equal('10.30.0.0/16');
    expect(vpc.natGateways[0]!.macAddress).to.equal('d0:0d:ab:cd:ef:01'); // EDGE-13
    expect(vpc.networkAcls[0]!.egressEntries).to.deep.equal([]); // EDGE-10
    expect(view.vpcs.map((v) => v.id)).to.deep.equal([
      'vpc-e1000001',
      'vpc-e2000002',
      'vpc-e3000003',
    ]); // EDGE-8 orphan dropped
    expect(view.vpcs[2]!.subnets).to.deep.equal([]); // EDGE-7
    expect([...view.invalid].sort()).to.deep.equal([
      'instance:i-e1000002',
      'instance:i-e1000003',
      'networkInterface:eni-3e3e3e3e',
      'networkInterface:eni-4e4e4e4e',
      'routeTable:rtb-e1300002',
      'securityGroup:sg-e6000002',
      'subnet:subnet-e1100002',
    ]);
  });
});
