import { expect } from 'chai';
import { diffTable, parseNftJson, ruleTag, type NftTableSpec } from './nft.js';

const desired: NftTableSpec = {
  family: 'bridge',
  name: 'eucanetd',
  sets: [
    {
      name: 'port_in',
      type: 'ifname',
      isVerdictMap: true,
      elements: new Map([['vn_a', 'jump pre_a']]),
    },
    {
      name: 'iag_x',
      type: 'ipv4_addr',
      isVerdictMap: false,
      elements: new Map([['10.0.0.1', '']]),
    },
  ],
  chains: [
    { name: 'stage', hook: { hook: 'forward', priority: -200 }, rules: ['iifname vmap @port_in'] },
    { name: 'pre_a', rules: ['ip saddr @iag_x accept', 'drop'] },
  ],
};

/** What `nft -j list table` prints for a table holding exactly `spec`. */
function listing(
  spec: NftTableSpec,
  tweak: (rules: Map<string, string[]>) => void = () => undefined,
): string {
  const items: unknown[] = [
    { metainfo: {} },
    { table: { family: 'bridge', name: 'eucanetd', handle: 1 } },
  ];
  for (const s of spec.sets) {
    const elem = [...s.elements].map(([k, v]) =>
      s.isVerdictMap ? [k, { [v.split(' ')[0]!]: { target: v.split(' ')[1] } }] : k,
    );
    items.push({
      [s.isVerdictMap ? 'map' : 'set']: {
        family: 'bridge',
        table: 'eucanetd',
        name: s.name,
        type: s.type,
        elem,
      },
    });
  }
  const rules = new Map(spec.chains.map((c) => [c.name, c.rules.map(ruleTag)]));
  tweak(rules);
  for (const c of spec.chains) {
    items.push({
      chain: {
        family: 'bridge',
        table: 'eucanetd',
        name: c.name,
        ...(c.hook
          ? { type: 'filter', hook: c.hook.hook, prio: c.hook.priority, policy: 'accept' }
          : {}),
      },
    });
    for (const tag of rules.get(c.name) ?? []) {
      items.push({
        rule: { family: 'bridge', table: 'eucanetd', chain: c.name, comment: tag, expr: [] },
      });
    }
  }
  return JSON.stringify({ nftables: items });
}

describe('datapath nft diff', () => {
  it('creates the whole table from nothing, sets before the rules that use them', () => {
    const script = diffTable(desired, undefined);
    expect(script[0]).to.equal('add table bridge eucanetd');
    const setAt = script.indexOf('add set bridge eucanetd iag_x { type ipv4_addr; }');
    const ruleAt = script.findIndex((l) =>
      l.startsWith('add rule bridge eucanetd pre_a ip saddr @iag_x'),
    );
    expect(setAt).to.be.greaterThan(0);
    expect(ruleAt).to.be.greaterThan(setAt);
    expect(script).to.include('add element bridge eucanetd port_in { "vn_a" : jump pre_a }');
    expect(script).to.include(`add rule bridge eucanetd pre_a drop comment "${ruleTag('drop')}"`);
  });

  it('plans nothing when the observed table matches (second pass is a no-op)', () => {
    const observed = parseNftJson(listing(desired), 'bridge', 'eucanetd');
    expect(diffTable(desired, observed)).to.deep.equal([]);
  });

  it('rewrites only a chain whose rules were changed or deleted by hand', () => {
    const observed = parseNftJson(
      listing(desired, (r) => r.set('pre_a', [ruleTag('drop')])),
      'bridge',
      'eucanetd',
    );
    expect(diffTable(desired, observed)).to.deep.equal([
      'flush chain bridge eucanetd pre_a',
      `add rule bridge eucanetd pre_a ip saddr @iag_x accept comment "${ruleTag('ip saddr @iag_x accept')}"`,
      `add rule bridge eucanetd pre_a drop comment "${ruleTag('drop')}"`,
    ]);
  });

  it('diffs set elements one by one and deletes stale chains after their users', () => {
    const changed: NftTableSpec = {
      ...desired,
      sets: [
        { ...desired.sets[0]!, elements: new Map() },
        { ...desired.sets[1]!, elements: new Map([['10.0.0.2', '']]) },
      ],
      chains: [{ ...desired.chains[0]! }],
    };
    const observed = parseNftJson(listing(desired), 'bridge', 'eucanetd');
    expect(diffTable(changed, observed)).to.deep.equal([
      'flush chain bridge eucanetd pre_a',
      'delete element bridge eucanetd port_in { "vn_a" }',
      'delete element bridge eucanetd iag_x { 10.0.0.1 }',
      'add element bridge eucanetd iag_x { 10.0.0.2 }',
      'delete chain bridge eucanetd pre_a',
    ]);
  });
});
