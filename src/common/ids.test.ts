import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { derivedId, hostId, IdDeriver, isDerivedId } from './ids.js';

describe('common/ids', () => {
  // Ids are persistent identity: these vectors must never change (a change would re-create
  // every managed object of every cloud on upgrade).
  it('derives the same ids as every earlier release', () => {
    expect(derivedId('')).to.equal('8aa0fb7d-6ce9-818a-a1fd-3d381344e0ca');
    expect(derivedId('a')).to.equal('a164dd3d-45fa-8076-91d4-42576209e0ca');
    expect(derivedId('router:eucart')).to.equal('ac5e96ab-4539-8243-8d39-8f6388f1e0ca');
    expect(derivedId('rule:ic_i-0e5d4c3b2a1908f7e_prechain:sg:sg-1d2e3f40')).to.equal(
      'c8ef979d-c8d8-8a49-ac1d-07d5366ae0ca',
    );
    expect(derivedId('ü→✓')).to.equal('952ea5a8-409f-8d78-a196-beb53898e0ca');
    const d = new IdDeriver();
    const h = createHash('sha1');
    for (let i = 0; i < 5000; i++) h.update(d.derive(`k:${i}:${(i * 2654435761) >>> 0}`));
    expect(h.digest('hex')).to.equal('594896bea4bb89e3a448ca397ce01d33c76a27ea');
  });

  it('derives a prefixed key from the prefix state as from the whole key', () => {
    const d = new IdDeriver();
    const prefixes = ['', 'rule:', 'rule:ic_i-0e5d4c3b2a1908f7e_prechain:', 'ü→'];
    const suffixes = ['', 'sg:sg-1d2e3f40', 'return-flow', '✓'];
    for (const p of prefixes) {
      const state = d.prefix(p);
      for (const s of suffixes) {
        // interleave a plain derive: the prefix state must not depend on the deriver's scratch
        d.derive('something else');
        expect(d.deriveAfter(state, s), `${p}|${s}`).to.equal(derivedId(p + s));
      }
    }
    expect(
      d.deriveAfter(d.prefix('rule:ic_i-0e5d4c3b2a1908f7e_prechain:'), 'sg:sg-1d2e3f40'),
    ).to.equal('c8ef979d-c8d8-8a49-ac1d-07d5366ae0ca');
  });

  it('tells derived ids from any other UUID', () => {
    expect(isDerivedId(derivedId('chain:sg_ingress_sg-1'))).to.equal(true);
    expect(isDerivedId(hostId('10.20.1.21'))).to.equal(true);
    expect(isDerivedId('3f2a1b4c-0000-4000-8000-000000000000')).to.equal(false);
    expect(isDerivedId(derivedId('x').replace(/e0ca$/, 'e0cb'))).to.equal(false);
    expect(derivedId('x')).to.match(
      /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});
