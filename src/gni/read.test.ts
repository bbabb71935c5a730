/**
 * Validation rules of readGni: §11 document-level rejections, entity-level invalidity with
 * its cascade, and the shape of the view. Documents are edited in their JSON form.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { readGni, writeGniJson, type ReadResult } from './index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;
const base: Doc = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../fixtures/gni/small.json', import.meta.url)), 'utf8'),
);

function edit(f: (d: Doc) => void): ReadResult {
  const d = structuredClone(base);
  f(d);
  return readGni(JSON.stringify(d));
}
function prop(d: Doc, name: string): Doc {
  return d.configuration.property.find((p: Doc) => p.name === name);
}
const vpc = (d: Doc): Doc => d.vpcs[0];
const inst = (d: Doc, i = 0): Doc => d.instances[i];

function rejectedWith(r: ReadResult, code: string, path?: string): void {
  expect(r.view, JSON.stringify(r.issues)).to.equal(undefined);
  const hit = r.issues.find((i) => i.code === code && i.severity === 'error');
  expect(hit, `${code} in ${JSON.stringify(r.issues)}`).to.not.equal(undefined);
  if (path !== undefined) expect(hit!.path).to.equal(path);
}

function invalidWith(r: ReadResult, keys: string[], code: string, path: string): void {
  expect(r.view, JSON.stringify(r.issues)).to.not.equal(undefined);
  for (const k of keys) expect([...r.view!.invalid], k).to.include(k);
  expect(
    r.issues.some((i) => i.code === code && i.path === path && i.severity === 'error'),
    JSON.stringify(r.issues),
  ).to.equal(true);
}

describe('readGni validation', () => {
  it('accepts the base document with no issue', () => {
    const r = readGni(JSON.stringify(base));
    expect(r.issues).to.deep.equal([]);
    expect(r.format).to.equal('json');
    expect(r.view!.instances.map((i) => [i.id, i.node, i.cluster])).to.deep.equal([
      ['i-0a1b2c3d', '10.20.1.21', 'az1'],
      ['i-4e5f6a7b', '10.20.1.21', 'az1'],
      ['i-9c8d7e6f', '10.20.1.22', 'az1'],
    ]);
  });

  it('accepts the { "network-data": … } wrapper and numeric strings', () => {
    const r = readGni(JSON.stringify({ 'network-data': base }));
    expect(writeGniJson(r.view!)).to.equal(writeGniJson(readGni(JSON.stringify(base)).view!));
    const s = edit((d) => (d.securityGroups[0].ingressRules[0].fromPort = '22'));
    expect(s.view!.securityGroups[0]!.ingressRules[0]!.fromPort).to.equal(22);
  });

  describe('document-level rejections (§11)', () => {
    it('mode EDGE, another mode, no mode, no configuration', () => {
      rejectedWith(
        edit((d) => (prop(d, 'mode').value = ['EDGE'])),
        'unsupported-mode',
        'configuration/mode',
      );
      rejectedWith(
        edit((d) => (prop(d, 'mode').value = ['MANAGED'])),
        'unsupported-mode',
      );
      rejectedWith(
        edit(
          (d) =>
            (d.configuration.property = d.configuration.property.filter(
              (p: Doc) => p.name !== 'mode',
            )),
        ),
        'missing-mode',
      );
      rejectedWith(
        edit((d) => delete d.configuration),
        'missing-configuration',
      );
    });
    it('CLC address, DNS domain and servers', () => {
      rejectedWith(
        edit((d) => (prop(d, 'enabledCLCIp').value = ['0.0.0.0'])),
        'invalid-clc-ip',
      );
      rejectedWith(
        edit((d) => (prop(d, 'instanceDNSDomain').value = [''])),
        'missing-dns-domain',
      );
      rejectedWith(
        edit((d) => (prop(d, 'instanceDNSServers').value = ['10.0.0.1', '0.0.0.0'])),
        'invalid-dns-server',
      );
    });
    it('cluster and node requirements', () => {
      const cluster = (d: Doc): Doc => prop(d, 'clusters').cluster[0];
      rejectedWith(
        edit(
          (d) =>
            (cluster(d).property = cluster(d).property.filter((p: Doc) => p.name !== 'macPrefix')),
        ),
        'missing-required',
      );
      rejectedWith(
        edit((d) =>
          cluster(d)
            .property.find((p: Doc) => p.name === 'nodes')
            .node[0].instanceIds.push(''),
        ),
        'empty-instance-id',
      );
    });
    it('missing ownerId, private IP or security groups; ACL entry and route requirements', () => {
      rejectedWith(
        edit((d) => delete inst(d).ownerId),
        'missing-required',
        'instances/instance[i-0a1b2c3d]/ownerId',
      );
      rejectedWith(
        edit((d) => (inst(d).privateIp = '0.0.0.0')),
        'missing-required',
      );
      rejectedWith(
        edit((d) => (inst(d).securityGroups = [])),
        'missing-required',
      );
      rejectedWith(
        edit((d) => delete inst(d).networkInterfaces[0].privateIp),
        'missing-required',
      );
      rejectedWith(
        edit((d) => (vpc(d).networkAcls[0].ingressEntries[0].protocol = 0)),
        'missing-required',
      );
      rejectedWith(
        edit((d) => delete vpc(d).routeTables[0].routes[1].gatewayId),
        'missing-required',
      );
      rejectedWith(
        edit((d) => delete d.securityGroups[0].ownerId),
        'missing-required',
      );
      rejectedWith(
        edit((d) => delete vpc(d).name),
        'missing-required',
      );
    });
  });

  describe('entity-level invalidity', () => {
    const subnetPath = 'vpcs/vpc[vpc-6a3e91c4]/subnets/subnet[subnet-0b7d1e52]';
    it('a bad subnet CIDR invalidates the subnet and cascades to its interfaces and instances', () => {
      const r = edit((d) => (vpc(d).subnets[0].cidr = '10.1.1.0/33'));
      invalidWith(
        r,
        ['subnet:subnet-0b7d1e52', 'networkInterface:eni-5d1c0a9e', 'instance:i-0a1b2c3d'],
        'invalid-cidr',
        `${subnetPath}/cidr`,
      );
      expect(r.view!.invalid.has('instance:i-4e5f6a7b')).to.equal(false); // other subnet untouched
    });
    it('a subnet outside its VPC CIDR is invalid', () => {
      invalidWith(
        edit((d) => (vpc(d).subnets[0].cidr = '10.9.1.0/24')),
        ['subnet:subnet-0b7d1e52'],
        'cidr-outside-vpc',
        `${subnetPath}/cidr`,
      );
    });
    it('bad IP, bad MAC, IP outside the subnet', () => {
      const eniPath =
        'instances/instance[i-4e5f6a7b]/networkInterfaces/networkInterface[eni-a27f3b60]';
      invalidWith(
        edit((d) => (inst(d, 1).networkInterfaces[0].macAddress = 'd0:0d:zz')),
        ['networkInterface:eni-a27f3b60', 'instance:i-4e5f6a7b'],
        'invalid-mac',
        `${eniPath}/macAddress`,
      );
      invalidWith(
        edit((d) => (inst(d, 1).networkInterfaces[0].privateIp = '10.1.2.300')),
        ['networkInterface:eni-a27f3b60'],
        'invalid-ip',
        `${eniPath}/privateIp`,
      );
      invalidWith(
        edit((d) => (inst(d, 1).networkInterfaces[0].privateIp = '10.1.1.99')),
        ['networkInterface:eni-a27f3b60'],
        'ip-outside-subnet',
        `${eniPath}/privateIp`,
      );
    });
    it('missing VPC, subnet, group; instance on no node', () => {
      invalidWith(
        edit((d) => (inst(d).vpc = 'vpc-00000000')),
        ['instance:i-0a1b2c3d'],
        'missing-reference',
        'instances/instance[i-0a1b2c3d]/vpc',
      );
      invalidWith(
        edit((d) => (inst(d).networkInterfaces[0].subnet = 'subnet-00000000')),
        ['networkInterface:eni-5d1c0a9e', 'instance:i-0a1b2c3d'],
        'missing-reference',
        'instances/instance[i-0a1b2c3d]/networkInterfaces/networkInterface[eni-5d1c0a9e]/subnet',
      );
      invalidWith(
        edit((d) => (inst(d).securityGroups = ['sg-00000000'])),
        ['instance:i-0a1b2c3d'],
        'missing-reference',
        'instances/instance[i-0a1b2c3d]/securityGroups',
      );
      const r = edit(
        (d) =>
          (prop(d, 'clusters').cluster[0].property.find(
            (p: Doc) => p.name === 'nodes',
          ).node[1].instanceIds = []),
      );
      invalidWith(
        r,
        ['instance:i-9c8d7e6f', 'networkInterface:e04c9d13'.replace('e04', 'eni-e04')],
        'not-placed',
        'instances/instance[i-9c8d7e6f]',
      );
    });
    it('duplicate ids, missing route targets, duplicate placement', () => {
      invalidWith(
        edit((d) => d.securityGroups.push({ ...d.securityGroups[0] })),
        ['securityGroup:sg-1d2e3f40', 'instance:i-0a1b2c3d'],
        'duplicate-id',
        'securityGroups/securityGroup[sg-1d2e3f40]',
      );
      // a route whose target does not resolve is a warning: the route is skipped, nothing held
      const dangling = edit((d) => (vpc(d).routeTables[0].routes[1].gatewayId = 'igw-00000000'));
      expect(dangling.view!.invalid.size).to.equal(0);
      expect(
        dangling.issues.some(
          (i) =>
            i.severity === 'warning' &&
            i.code === 'missing-reference' &&
            i.path ===
              'vpcs/vpc[vpc-6a3e91c4]/routeTables/routeTable[rtb-7e05b3d1]/routes/route[1]',
        ),
      ).to.equal(true);
      // an invalid route table holds its routes but not the subnets that use it
      invalidWith(
        edit((d) => (vpc(d).routeTables[0].routes[1].destinationCidr = '0.0.0.0/33')),
        ['routeTable:rtb-7e05b3d1'],
        'invalid-cidr',
        'vpcs/vpc[vpc-6a3e91c4]/routeTables/routeTable[rtb-7e05b3d1]/routes/route[1]/destinationCidr',
      );
      const r = edit((d) =>
        prop(d, 'clusters')
          .cluster[0].property.find((p: Doc) => p.name === 'nodes')
          .node[1].instanceIds.push('i-0a1b2c3d'),
      );
      expect(r.view!.instances[0]!.node).to.equal('10.20.1.22');
      expect(r.issues.map((i) => i.code)).to.deep.equal(['duplicate-placement']);
    });
  });

  it('unknown JSON keys are warnings', () => {
    const r = edit((d) => (inst(d).futureField = 1));
    expect(r.view).to.not.equal(undefined);
    expect(r.issues).to.deep.equal([
      {
        path: 'network-data/instances[0]/futureField',
        code: 'unknown-key',
        message: 'unknown key "futureField" ignored',
        severity: 'warning',
      },
    ]);
  });
});
