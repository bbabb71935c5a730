/**
 * No field is dropped silently: every field of MidoNet v5's rule, router, bridge, port and host
 * DTOs (the REST models' JSON names) is sent, one at a time with a value other than its
 * default, in a create; it either round-trips (the GET of the new object shows it) or the
 * create is refused with a 400 that names it and nothing is created. The default of every
 * refused field is accepted. A DTO read from us and PUT back unchanged is accepted and changes
 * nothing.
 */
import { expect } from 'chai';
import { startTestApiServer, type TestApiServer } from '../src/api/testing.js';
import { createMemoryStore, type TopologyStore } from '../src/store/index.js';
import { MidonetLikeClient, vnd, type Dto } from './helpers/midonet-client.js';

const U1 = '0b4ad1e1-0000-4000-8000-000000000001';
const MAC = '02:00:00:00:00:07';

/** One field: a non-default value, MidoNet's default, and whether we store it. */
interface Case {
  readonly value: unknown;
  readonly dflt?: unknown;
  /** Extra body fields the value needs (e.g. a jump rule's type). */
  readonly with?: Dto;
  /** How the value reads back when it is normalized (numeric strings, lists). */
  readonly reads?: unknown;
}
type Table = Readonly<Record<string, Case>>;
interface Refs {
  chainA: string;
  chainB: string;
  pg: string;
  iag: string;
  host: string;
  bridgePort: string;
  routerPort: string;
}

const stored = (value: unknown, extra: Partial<Case> = {}): Case => ({ value, ...extra });

function ruleTables(r: Refs): { stored: Table; refused: Table } {
  const flags = ['condInvert', 'matchForwardFlow', 'matchReturnFlow', 'invInPorts'];
  flags.push('invOutPorts', 'invPortGroup', 'invInPortGroup', 'invOutPortGroup');
  flags.push('invIpAddrGroupSrc', 'invIpAddrGroupDst', 'noVlan', 'invDlType', 'invDlSrc');
  flags.push('invDlDst', 'invNwTos', 'invNwProto', 'invNwSrc', 'invNwDst');
  const ok: Record<string, Case> = Object.fromEntries(flags.map((f) => [f, stored(true)]));
  Object.assign(ok, {
    id: stored(U1),
    type: stored('drop'),
    position: stored(1),
    inPorts: stored([r.routerPort]),
    outPorts: stored([r.routerPort]),
    portGroup: stored(r.pg),
    inPortGroup: stored(r.pg),
    outPortGroup: stored(r.pg),
    ipAddrGroupSrc: stored(r.iag),
    ipAddrGroupDst: stored(r.iag),
    vlan: stored(7),
    dlType: stored(0x0800),
    dlSrc: stored(MAC),
    dlSrcMask: stored('ff:ff:ff:00:00:00'),
    dlDst: stored(MAC),
    dlDstMask: stored('ff:ff:ff:00:00:00'),
    nwTos: stored(8),
    nwProto: stored(6),
    nwSrcAddress: stored('10.0.0.0', { with: { nwSrcLength: 8 } }),
    nwSrcLength: stored(8, { with: { nwSrcAddress: '10.0.0.0' } }),
    nwDstAddress: stored('10.0.0.0', { with: { nwDstLength: 8 } }),
    nwDstLength: stored(8, { with: { nwDstAddress: '10.0.0.0' } }),
    tpSrc: stored({ start: 1, end: 2 }, { with: { nwProto: 6 } }),
    tpDst: stored({ start: 80, end: 81 }, { with: { nwProto: 6 } }),
    invTpSrc: stored(true, { with: { nwProto: 6, tpSrc: { start: 1, end: 2 } } }),
    invTpDst: stored(true, { with: { nwProto: 6, tpDst: { start: 1, end: 2 } } }),
    fragmentPolicy: stored('unfragmented'),
    jumpChainId: stored(r.chainB, { with: { type: 'jump' } }),
    jumpChainName: stored('b', { with: { type: 'jump', jumpChainId: r.chainB } }),
    flowAction: stored('continue', { with: { type: 'rev_dnat' } }),
    natTargets: stored(
      [{ addressFrom: '192.0.2.1', addressTo: '192.0.2.2', portFrom: 1, portTo: 2 }],
      {
        with: { type: 'dnat', flowAction: 'accept' },
      },
    ),
  });
  const refused: Table = {
    traversedDevice: { value: U1, dflt: null },
    invTraversedDevice: { value: true, dflt: false },
    icmpDataSrcIpAddress: { value: '10.0.0.0', dflt: null },
    icmpDataSrcIpLength: { value: 8, dflt: 0 },
    invIcmpDataSrcIp: { value: true, dflt: false },
    icmpDataDstIpAddress: { value: '10.0.0.0', dflt: null },
    icmpDataDstIpLength: { value: 8, dflt: 0 },
    invIcmpDataDstIp: { value: true, dflt: false },
    matchNwDstRewritten: { value: true, dflt: false },
    meterName: { value: 'm', dflt: null },
    requestId: { value: U1, dflt: null },
    limit: { value: 5, dflt: 0 },
    popVlan: { value: true, dflt: false },
    pushVlan: { value: 5, dflt: 0 },
    targetPortId: { value: U1, dflt: null },
    ingress: { value: true, dflt: false },
    failOpen: { value: true, dflt: false },
    chainId: { value: r.chainB, dflt: null },
    action: { value: 'accept', dflt: null },
  };
  return { stored: ok, refused };
}

function deviceTables(r: Refs): Record<string, { stored: Table; refused: Table }> {
  const mirrors: Table = {
    inboundMirrorIds: { value: [U1], dflt: [] },
    outboundMirrorIds: { value: [U1], dflt: [] },
  };
  const device: Table = {
    id: stored(U1),
    tenantId: stored('t1'),
    name: stored('n1'),
    adminStateUp: stored(false),
    inboundFilterId: stored(r.chainA),
    outboundFilterId: stored(r.chainB),
  };
  const portRefused: Table = {
    ...mirrors,
    vifId: { value: U1, dflt: null },
    tunnelKey: { value: 5, dflt: 0 },
    previousHostId: { value: r.host, dflt: null },
    postInFilterMirrorIds: { value: [U1], dflt: [] },
    preOutFilterMirrorIds: { value: [U1], dflt: [] },
    mirrorIds: { value: [U1], dflt: [] },
    insertionIds: { value: [U1], dflt: [] },
    serviceInsertionIds: { value: [U1], dflt: [] },
    traceRequestIds: { value: [U1], dflt: [] },
    fipNatRuleIds: { value: [U1], dflt: [] },
    l2insertionInfilterId: { value: U1, dflt: null },
    l2insertionOutfilterId: { value: U1, dflt: null },
    qosPolicyId: { value: U1, dflt: null },
    active: { value: true, dflt: false },
    deviceId: { value: U1, dflt: null },
  };
  const portStored: Table = {
    id: stored(U1),
    adminStateUp: stored(false),
    inboundFilterId: stored(r.chainA),
    outboundFilterId: stored(r.chainB),
    hostId: stored(r.host, { with: { interfaceName: 'tap9' } }),
    interfaceName: stored('tap9', { with: { hostId: r.host } }),
  };
  return {
    router: {
      stored: {
        ...device,
        asNumber: stored(65001),
        localRedirectChainId: stored(r.chainA),
        forwardChainId: stored(r.chainB),
      },
      refused: { ...mirrors, loadBalancerId: { value: U1, dflt: null } },
    },
    bridge: {
      stored: device,
      refused: {
        ...mirrors,
        qosPolicyId: { value: U1, dflt: null },
        vxLanPortIds: { value: [U1], dflt: [] },
      },
    },
    routerPort: {
      stored: {
        ...portStored,
        peerId: stored(r.bridgePort),
        portAddress: stored('10.9.0.1', { with: { networkLength: 24 } }),
        networkLength: stored(16),
        networkAddress: stored('10.9.0.0'),
        portMac: stored(MAC),
        portSubnet: stored(['10.8.0.1/24']),
      },
      refused: {
        ...portRefused,
        rtrPortVni: { value: 5, dflt: null },
        offRampVxlan: { value: true, dflt: false },
        serviceContainerId: { value: U1, dflt: null },
        bgpStatus: { value: 'up', dflt: null },
        portSubnet: { value: ['10.8.0.1/24', '10.7.0.1/24'], dflt: [] },
      },
    },
    bridgePort: { stored: { ...portStored, vlanId: stored(7) }, refused: portRefused },
    host: {
      stored: {
        id: stored(U1),
        name: stored('h9'),
        addresses: stored(['192.0.2.9']),
        floodingProxyWeight: stored(5),
      },
      refused: {
        containerWeight: { value: 2, dflt: 1 },
        containerLimit: { value: 2, dflt: -1 },
        enforceContainerLimit: { value: true, dflt: false },
        alive: { value: true, dflt: false },
        hostInterfaces: { value: [{ name: 'eth0' }], dflt: [] },
      },
    },
  };
}

describe('api: every MidoNet v5 DTO field round-trips or is refused with 400', () => {
  let store: TopologyStore;
  let server: TestApiServer;
  let cli: MidonetLikeClient;
  let refs: Refs;
  let routerUri: string;
  let bridgeUri: string;
  let chainRules: string;

  beforeEach(async () => {
    store = createMemoryStore();
    server = await startTestApiServer(store);
    cli = new MidonetLikeClient(server.url);
    await cli.login(server.user.name, server.user.password);
    const base = server.url;
    const mk = (path: string, type: string, body: Dto) =>
      cli.create(`${base}/${path}`, vnd(type), body);
    const chainA = await mk('chains', 'Chain-v1', { name: 'a' });
    const chainB = await mk('chains', 'Chain-v1', { name: 'b' });
    const router = await mk('routers', 'Router-v3', { name: 'r' });
    const bridge = await mk('bridges', 'Bridge-v4', { name: 'b' });
    const zone = await mk('tunnel_zones', 'TunnelZone-v1', { name: 'z' });
    const host = await mk('hosts', 'Host-v3', { name: 'h' });
    await cli.request('POST', zone['hosts'] as string, vnd('TunnelZoneHost-v1'), {
      hostId: host['id'],
      ipAddress: '192.0.2.1',
    });
    const bport = await cli.create(bridge['ports'] as string, vnd('Port-v3'), { type: 'Bridge' });
    const rport = await cli.create(router['ports'] as string, vnd('Port-v3'), {
      type: 'Router',
      portAddress: '10.0.0.1',
      networkLength: 24,
    });
    refs = {
      chainA: chainA['id'] as string,
      chainB: chainB['id'] as string,
      pg: (await mk('port_groups', 'PortGroup-v1', { name: 'pg' }))['id'] as string,
      iag: (await mk('ip_addr_groups', 'IpAddrGroup-v1', { name: 'g' }))['id'] as string,
      host: host['id'] as string,
      bridgePort: bport['id'] as string,
      routerPort: rport['id'] as string,
    };
    routerUri = router['ports'] as string;
    bridgeUri = bridge['ports'] as string;
    chainRules = chainA['rules'] as string;
  });
  afterEach(async () => {
    await server.close();
    await store.close();
  });

  interface Target {
    readonly uri: string;
    readonly type: string;
    readonly base: Dto;
    readonly count: () => Promise<number>;
    readonly cleanup: (created: Dto) => Promise<void>;
  }

  async function checkTable(what: string, t: Target, table: { stored: Table; refused: Table }) {
    for (const [field, c] of Object.entries(table.stored)) {
      const body = { ...t.base, ...c.with, [field]: c.value };
      const res = await cli.raw('POST', t.uri, vnd(t.type), body);
      expect(res.status, `${what}.${field}: ${JSON.stringify(res.data)}`).to.equal(201);
      const got = await cli.show(res.headers['location'] as string, vnd(t.type));
      expect(got[field], `${what}.${field} reads back`).to.deep.equal(c.reads ?? c.value);
      await t.cleanup(got);
    }
    for (const [field, c] of Object.entries(table.refused)) {
      const before = await t.count();
      const res = await cli.raw('POST', t.uri, vnd(t.type), { ...t.base, [field]: c.value });
      expect(res.status, `${what}.${field} refused`).to.equal(400);
      expect(String((res.data as Dto)['message']), `${what}.${field} named`).to.contain(field);
      expect(await t.count(), `${what}.${field}: nothing created`).to.equal(before);
      if (c.dflt === undefined) continue;
      const ok = await cli.raw('POST', t.uri, vnd(t.type), { ...t.base, [field]: c.dflt });
      expect(ok.status, `${what}.${field} default ${JSON.stringify(c.dflt)}`).to.equal(201);
      await t.cleanup(await cli.show(ok.headers['location'] as string, vnd(t.type)));
    }
  }

  const del = async (o: Dto, type: string) => {
    await cli.request('DELETE', o['uri'] as string, vnd(type));
  };

  it('rule fields', async () => {
    const count = async () => (await cli.list(chainRules, vnd('Rule-v2', true))).length;
    await checkTable(
      'rule',
      {
        uri: chainRules,
        type: 'Rule-v2',
        base: { type: 'accept' },
        count,
        cleanup: (o) => del(o, 'Rule-v2'),
      },
      ruleTables(refs),
    );
    for (const type of ['trace', 'l2_transform', 'redirect']) {
      const res = await cli.raw('POST', chainRules, vnd('Rule-v2'), { type });
      expect(res.status, type).to.equal(400);
      expect(String((res.data as Dto)['message'])).to.contain('type');
    }
  });

  it('router, bridge and host fields', async () => {
    const tables = deviceTables(refs);
    for (const [what, path, type] of [
      ['router', 'routers', 'Router-v3'],
      ['bridge', 'bridges', 'Bridge-v4'],
      ['host', 'hosts', 'Host-v3'],
    ] as const) {
      const uri = `${server.url}/${path}`;
      await checkTable(
        what,
        {
          uri,
          type,
          base: { name: 'x' },
          count: async () => (await cli.list(uri, vnd(type, true))).length,
          cleanup: (o) => del(o, type),
        },
        tables[what]!,
      );
    }
  });

  it('router port and bridge port fields', async () => {
    const tables = deviceTables(refs);
    const count = async () => (await cli.list(`${server.url}/ports`, vnd('Port-v3', true))).length;
    const cleanup = (o: Dto) => del(o, 'Port-v3');
    await checkTable(
      'routerPort',
      {
        uri: routerUri,
        type: 'Port-v3',
        base: { type: 'Router' },
        count,
        cleanup,
      },
      tables['routerPort']!,
    );
    await checkTable(
      'bridgePort',
      {
        uri: bridgeUri,
        type: 'Port-v3',
        base: { type: 'Bridge' },
        count,
        cleanup,
      },
      tables['bridgePort']!,
    );
  });

  it('a DTO read back and PUT unchanged is accepted and changes nothing; a changed state field is refused', async () => {
    for (const [uri, type] of [
      [`${server.url}/routers`, 'Router-v3'],
      [`${server.url}/bridges`, 'Bridge-v4'],
      [`${server.url}/hosts`, 'Host-v3'],
      [`${server.url}/ports`, 'Port-v3'],
    ] as const) {
      for (const dto of await cli.list(uri, vnd(type, true))) {
        const again = await cli.update(dto, vnd(type));
        const { version: _a, ...x } = again;
        const { version: _b, ...y } = dto;
        expect(x, `${type} ${String(dto['id'])}`).to.deep.equal(y);
      }
    }
    const port = await cli.show(`${server.url}/ports/${refs.routerPort}`, vnd('Port-v3'));
    for (const [field, value] of [
      ['active', true],
      ['deviceId', U1],
      ['peerId', refs.bridgePort],
      ['routerId', U1],
    ] as const) {
      const res = await cli.raw('PUT', port['uri'] as string, vnd('Port-v3'), {
        ...port,
        [field]: value,
      });
      expect(res.status, field).to.equal(400);
      expect(String((res.data as Dto)['message'])).to.contain(field);
    }
  });
});
