import { expect } from 'chai';
import { StoreState } from './state.js';
import type { AnyObject } from './types.js';

const chain = (id: string, name: string, version = 1): AnyObject =>
  ({ id, name, version, metadata: [], ruleIds: [] }) as unknown as AnyObject;

describe('StoreState', () => {
  it('keeps list() in id order through creates and deletes after a first list', () => {
    const s = new StoreState();
    for (const id of ['m', 'c', 'x']) s.put('chain', chain(id, id));
    expect(s.list('chain').map((o) => o.id)).to.deep.equal(['c', 'm', 'x']);
    s.apply(
      [
        { kind: 'chain', id: 'a', type: 'created', object: chain('a', 'a') },
        { kind: 'chain', id: 'm', type: 'deleted' },
        { kind: 'chain', id: 'z', type: 'created', object: chain('z', 'z') },
        { kind: 'chain', id: 'n', type: 'created', object: chain('n', 'n') },
      ],
      1,
    );
    expect(s.list('chain').map((o) => o.id)).to.deep.equal(['a', 'c', 'n', 'x', 'z']);
    s.apply([{ kind: 'chain', id: 'm', type: 'created', object: chain('m', 'm') }], 2);
    s.apply([{ kind: 'chain', id: 'm', type: 'deleted' }], 3);
    s.apply([{ kind: 'chain', id: 'c', type: 'updated', object: chain('c', 'c2', 2) }], 4);
    const list = s.list('chain');
    expect(list.map((o) => o.id)).to.deep.equal(['a', 'c', 'n', 'x', 'z']);
    expect((list[1] as { name: string }).name).to.equal('c2');
    expect(Object.isFrozen(list)).to.equal(true);
    expect(s.list('chain')).to.equal(list); // cached until the next change
    expect(s.revision).to.equal(4);
  });

  it('resolves a shared name to the smallest id, and follows renames and deletes', () => {
    const s = new StoreState();
    s.put('chain', chain('b', 'same'));
    s.put('chain', chain('a', 'same'));
    expect(s.getByName('chain', 'same')?.id).to.equal('a');
    s.apply([{ kind: 'chain', id: 'a', type: 'updated', object: chain('a', 'other', 2) }], 1);
    expect(s.getByName('chain', 'same')?.id).to.equal('b');
    expect(s.getByName('chain', 'other')?.id).to.equal('a');
    s.apply([{ kind: 'chain', id: 'b', type: 'deleted' }], 2);
    expect(s.getByName('chain', 'same')).to.equal(undefined);
    expect(s.count()).to.equal(1);
  });
});
