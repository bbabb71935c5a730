import { expect } from 'chai';
import { RevisionCompactedError } from './errors.js';
import type { ChangeEvent } from './types.js';
import { eventWeight, WatchHub } from './watch.js';

const ev = (revision: number): ChangeEvent => ({
  revision,
  changes: [{ kind: 'host', id: `h${revision}`, type: 'deleted' }],
});

describe('WatchHub', () => {
  it('replays history after the revision asked, then live events, and ends on abort', async () => {
    const hub = new WatchHub(0);
    hub.publish(ev(1));
    hub.publish(ev(2));
    const ac = new AbortController();
    const it = hub.watch(1, ac.signal)[Symbol.asyncIterator]();
    expect((await it.next()).value).to.deep.equal(ev(2));
    const pending = it.next();
    hub.publish(ev(3));
    expect((await pending).value).to.deep.equal(ev(3));
    const waiting = it.next();
    ac.abort();
    expect((await waiting).done).to.equal(true);
  });

  it('keeps a bounded history and refuses to resume from before it', async () => {
    const hub = new WatchHub(0, 3);
    for (let r = 1; r <= 5; r++) hub.publish(ev(r));
    try {
      await hub.watch(1)[Symbol.asyncIterator]().next();
      expect.fail('expected RevisionCompactedError');
    } catch (e) {
      expect(e).to.be.instanceOf(RevisionCompactedError);
    }
    const it = hub.watch(2)[Symbol.asyncIterator]();
    expect((await it.next()).value?.revision).to.equal(3);
    hub.close();
    expect((await it.next()).value?.revision).to.equal(4);
    expect((await it.next()).value?.revision).to.equal(5);
    expect((await it.next()).done).to.equal(true);
  });

  it('bounds the history by weight (list entries count), keeping the latest commit', async () => {
    const big = (revision: number): ChangeEvent => ({
      revision,
      changes: [
        {
          kind: 'router',
          id: 'r1',
          type: 'updated',
          object: { id: 'r1', routeIds: Array.from({ length: 100 }, (_, i) => `x${i}`) } as never,
        },
      ],
    });
    expect(eventWeight(big(1))).to.equal(1 + 1 + 101);
    const hub = new WatchHub(0, 1000, 250);
    for (let r = 1; r <= 5; r++) hub.publish(big(r));
    // two events (206) fit in 250, three do not: resumption from revision 2 is refused
    try {
      await hub.watch(2)[Symbol.asyncIterator]().next();
      expect.fail('expected RevisionCompactedError');
    } catch (e) {
      expect(e).to.be.instanceOf(RevisionCompactedError);
    }
    const it = hub.watch(3)[Symbol.asyncIterator]();
    expect((await it.next()).value?.revision).to.equal(4);
    const one = new WatchHub(0, 1000, 10);
    one.publish(big(1));
    const it1 = one.watch(0)[Symbol.asyncIterator]();
    expect((await it1.next()).value?.revision).to.equal(1);
    hub.close();
    one.close();
  });

  it('announces an event without keeping it, making its changes only for a subscriber', async () => {
    const hub = new WatchHub(0);
    hub.publish(ev(1));
    let made = 0;
    const changes = (r: number) => () => (made++, ev(r).changes);
    hub.announce(2, changes(2)); // nobody listens: no changes made
    expect(made).to.equal(0);
    try {
      await hub.watch(1)[Symbol.asyncIterator]().next();
      expect.fail('expected RevisionCompactedError');
    } catch (e) {
      expect(e).to.be.instanceOf(RevisionCompactedError);
    }
    const it = hub.watch(2)[Symbol.asyncIterator]();
    const next = it.next(); // subscribes
    hub.announce(3, changes(3));
    expect(made).to.equal(1);
    expect((await next).value).to.deep.equal(ev(3));
    hub.close();
  });
});
