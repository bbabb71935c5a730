import { expect } from 'chai';
import { parseEgress } from './metadata.js';

describe('mapping/metadata egress lists', () => {
  it('parses protocol:port items with the right protocol numbers (eucanetd swapped udp/tcp)', () => {
    const { items, bad } = parseEgress('udp:53 tcp:53 udp:5353 tcp:8000-8080 icmp 47');
    expect(bad).to.deep.equal([]);
    expect(items.map((i) => [i.proto, i.from, i.to])).to.deep.equal([
      [17, 53, 53],
      [6, 53, 53],
      [17, 5353, 5353],
      [6, 8000, 8080],
      [1, undefined, undefined],
      [47, undefined, undefined],
    ]);
  });

  it('reports malformed items instead of throwing', () => {
    expect(parseEgress('tcp:99999 sctp:1 tcp:90-80 tcp:80').bad).to.deep.equal([
      'tcp:99999',
      'sctp:1',
      'tcp:90-80',
    ]);
    expect(parseEgress('').items).to.deep.equal([]);
  });
});
