/**
 * Ids shared across kinds (`sharedIds`): every use of such an id, and of a reserved id, is
 * reported in the order the ids first appear, each naming the element; a clean document has
 * none.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { readGni } from './index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;
const base: Doc = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../fixtures/gni/small.json', import.meta.url)), 'utf8'),
);

describe('gni ids shared across kinds', () => {
  it('a clean document shares no id', () => {
    const r = readGni(JSON.stringify(base));
    expect(r.issues.filter((i) => i.code === 'duplicate-id')).to.deep.equal([]);
  });

  it('reports each use of a shared or reserved id, naming the element, and holds them', () => {
    const d = structuredClone(base);
    d.vpcs[0].subnets[1].name = 'i-4e5f6a7b'; // a subnet named like an instance
    d.securityGroups[1].name = 'core'; // a name the mapping reserves
    const r = readGni(JSON.stringify(d));
    const shared = 'i-4e5f6a7b is the id of a subnet and a instance; held until one is renamed';
    expect(r.issues.filter((i) => i.code === 'duplicate-id')).to.deep.equal([
      {
        path: 'vpcs/vpc[vpc-6a3e91c4]/subnets/subnet[i-4e5f6a7b]',
        code: 'duplicate-id',
        message: shared,
        severity: 'error',
      },
      {
        path: 'instances/instance[i-4e5f6a7b]',
        code: 'duplicate-id',
        message: shared,
        severity: 'error',
      },
      {
        path: 'securityGroups/securityGroup[core]',
        code: 'duplicate-id',
        message: 'core is a name the mapping reserves; held until one is renamed',
        severity: 'error',
      },
    ]);
    expect([...r.view!.invalid].sort()).to.deep.equal([
      'instance:i-4e5f6a7b',
      'instance:i-9c8d7e6f',
      'networkInterface:eni-a27f3b60',
      'networkInterface:eni-e04c9d13',
      'securityGroup:core',
      'subnet:i-4e5f6a7b',
    ]);
  });
});
