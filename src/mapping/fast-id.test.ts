import { expect } from 'chai';
import { derivedId } from '../common/index.js';
import { IdDeriver } from './fast-id.js';

describe('mapping/fast-id', () => {
  it('derives exactly the ids of derivedId', () => {
    const d = new IdDeriver();
    const keys = [
      '',
      'a',
      'router:eucart',
      'rule:ic_i-0e5d4c3b2a1908f7e_prechain:sg:sg-1d2e3f40',
      'ü→✓',
    ];
    for (let i = 0; i < 5000; i++) keys.push(`k:${i}:${(i * 2654435761) >>> 0}`);
    for (const k of keys) expect(d.derive(k), k).to.equal(derivedId(k));
  });
});
