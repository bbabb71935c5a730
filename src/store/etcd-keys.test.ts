import { expect } from 'chai';
import { StoreError, StoreUnavailableError } from './errors.js';
import { EtcdKeys, isEtcdSizeRefusal, parseEtcdSpec, toStoreError } from './etcd-keys.js';

describe('etcd keys', () => {
  it('parses endpoints and the prefix of a spec, defaulting the prefix to /eucanetd', () => {
    expect(parseEtcdSpec('etcd://127.0.0.1:2379/p')).to.deep.equal({
      hosts: ['127.0.0.1:2379'],
      root: '/p',
    });
    expect(parseEtcdSpec('etcd://a:1,b:2,c:3/x/y/')).to.deep.equal({
      hosts: ['a:1', 'b:2', 'c:3'],
      root: '/x/y',
    });
    expect(parseEtcdSpec('etcd://h:2379').root).to.equal('/eucanetd');
    expect(parseEtcdSpec('etcd://[::1]:2379/p').hosts).to.deep.equal(['[::1]:2379']);
  });

  it('refuses a spec without endpoints or with an endpoint lacking a port', () => {
    expect(() => parseEtcdSpec('etcd:///p')).to.throw(StoreError, /expected etcd:\/\/host:port/);
    expect(() => parseEtcdSpec('etcd://h/p')).to.throw(StoreError, /bad endpoint h/);
  });

  it('lays out object, revision and lock keys and parses object keys back', () => {
    const k = new EtcdKeys('/p');
    expect(k.object('port', 'abc')).to.equal('/p/o/port/abc');
    expect(k.revision).to.equal('/p/rev');
    expect(k.lock).to.equal('/p/lock/controller');
    expect(k.parseObject('/p/o/ip-addr-group/g1')).to.deep.equal({
      kind: 'ip-addr-group',
      id: 'g1',
    });
    expect(k.parseObject('/p/o/nope/g1')).to.equal(undefined);
    expect(k.parseObject('/p/rev')).to.equal(undefined);
    expect(k.parseObject('/q/o/port/abc')).to.equal(undefined);
  });

  it('maps connection failures to StoreUnavailableError and size refusals to a hint', () => {
    const down = toStoreError(new Error('14 UNAVAILABLE: No connection established'), 'x', 'h:1');
    expect(down).to.be.instanceOf(StoreUnavailableError);
    // etcd killed while a commit was on the wire: its outcome is unknown, the cycle is retried
    const reset = toStoreError(new Error('14 UNAVAILABLE: read ECONNRESET'), 'commit', 'h:1');
    expect(reset).to.be.instanceOf(StoreUnavailableError);
    const breaker = new Error('Execution prevented because the circuit breaker is open');
    expect(toStoreError(breaker, 'commit', 'h:1')).to.be.instanceOf(StoreUnavailableError);
    const big = toStoreError(
      new Error('etcdserver: too many operations in txn request'),
      'x',
      'h:1',
    );
    expect(big).to.not.be.instanceOf(StoreUnavailableError);
    expect(big.message).to.include('--max-txn-ops');
    expect(isEtcdSizeRefusal(big)).to.equal(true);
    expect(isEtcdSizeRefusal(down)).to.equal(false);
    const other = toStoreError(new Error('etcdserver: permission denied'), 'x', 'h:1');
    expect(other).to.be.instanceOf(StoreError).and.not.instanceOf(StoreUnavailableError);
  });
});
