import { expect } from 'chai';
import { generateView, prng } from '../../scripts/lib/gni-generator.js';
import { cloudDocument as doc, EDITS, withNodes } from '../../test/helpers/view-edits.js';
import { readGni, readGniWithState, type GlobalView, type StatefulRead } from './index.js';

// Contract C1 (view identity), reader side: see docs/gni.md, "View identity".

const SECTIONS = [
  'vpcs',
  'instances',
  'dhcpOptionSets',
  'internetGateways',
  'securityGroups',
] as const;

function base(seed: number): StatefulRead {
  const read = readGniWithState(doc(generateView({ size: 'S', seed }), 1));
  expect(read.state).to.not.equal(undefined);
  return read;
}

/** For each top-level entity of `next`: the same object as in `last` exactly when equal. */
function expectIdentityByContent(last: GlobalView, next: GlobalView): number {
  let shared = 0;
  for (const section of SECTIONS) {
    const before = new Map<string, unknown>(last[section].map((e) => [e.id, e]));
    for (const e of next[section]) {
      const old = before.get(e.id);
      const equal = old !== undefined && JSON.stringify(old) === JSON.stringify(e);
      expect(e === old, `${section} ${e.id}`).to.equal(equal);
      if (equal) shared++;
    }
  }
  const sameConfig = JSON.stringify(last.configuration) === JSON.stringify(next.configuration);
  expect(next.configuration === last.configuration, 'configuration').to.equal(sameConfig);
  return shared;
}

describe('gni view identity (contract C1)', () => {
  it('an instance moved to another node is a new object; the last view keeps the old one', () => {
    const read = base(21);
    const view = read.result.view!;
    const moved = view.instances[3]!;
    const from = moved.node!;
    const to = view.configuration.clusters
      .flatMap((c) => c.nodes)
      .find((n) => n.name !== from && !n.instanceIds.includes(moved.id))!.name;
    const edited = withNodes(view, (n) => ({
      ...n,
      instanceIds:
        n.name === to
          ? [...n.instanceIds, moved.id].sort()
          : n.instanceIds.filter((x) => x !== moved.id),
    }));
    const bytes = doc(edited, 2);
    const next = readGniWithState(bytes, {}, read.state);
    expect(next.result).to.deep.equal(readGni(bytes));
    expect(next.incremental && next.checkedIncrementally).to.equal(true);
    const now = next.result.view!.instances.find((i) => i.id === moved.id)!;
    expect(now).to.not.equal(moved);
    expect(now.node).to.equal(to);
    expect(moved.node).to.equal(from); // the last view is not written
    expect(view.instances[3]).to.equal(moved);
    expect(next.result.view!.configuration).to.not.equal(view.configuration);
    const shared = expectIdentityByContent(view, next.result.view!);
    expect(shared).to.be.at.least(view.instances.length - 1);
  });

  it('keeps every unchanged entity and the configuration over a sequence of edits', () => {
    let read = base(22);
    const r = prng(22);
    const names = [
      'add an instance',
      'change a public IP',
      'remove an instance',
      'change a security group rule',
      'change a VPC route table',
      'change DNS servers',
    ];
    for (const [step, name] of names.entries()) {
      const view = read.result.view!;
      const before = JSON.stringify(view);
      const bytes = doc(EDITS[name]!(view, r), 2 + step);
      const next = readGniWithState(bytes, {}, read.state);
      expect(next.result, name).to.deep.equal(readGni(bytes));
      expect(next.incremental, name).to.equal(true);
      expectIdentityByContent(view, next.result.view!);
      expect(JSON.stringify(view), name).to.equal(before);
      if (next.state !== undefined) read = next;
    }
  });

  it('an entity whose bytes changed but not its content keeps its object', () => {
    const read = base(23);
    const view = read.result.view!;
    const bytes = doc(view, 2);
    const id = view.instances[5]!.id;
    const tag = `<instance name="${id}">`;
    const text = bytes.toString('latin1');
    expect(text.includes(tag)).to.equal(true);
    const edited = Buffer.from(text.replace(tag, `<instance  name="${id}" >`), 'latin1');
    const next = readGniWithState(edited, {}, read.state);
    expect(next.result).to.deep.equal(readGni(edited));
    expect(next.incremental).to.equal(true);
    expect(next.scanned).to.be.above(0);
    expect(next.result.view!.instances[5]).to.equal(view.instances[5]);
    expectIdentityByContent(view, next.result.view!);
  });

  it('a full read shares no entity with an earlier view', () => {
    const read = base(24);
    const view = read.result.view!;
    const again = readGniWithState(doc(view, 1)).result.view!;
    expect(again.configuration).to.not.equal(view.configuration);
    for (const section of SECTIONS)
      again[section].forEach((e, i) => expect(e, section).to.not.equal(view[section][i]));
  });
});
