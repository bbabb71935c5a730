/**
 * MidoNet CLI compatibility: python-midonetclient cannot be installed here, so this walks the
 * calls its library makes (midonet.md §4.5) — login with the token taken from Set-Cookie, the
 * root document, systemState, then create/list/show/update/delete by following URIs with the
 * vendor media types — and checks that the fields the CLI reads are present with MidoNet's
 * names and JSON types.
 */
import { expect } from 'chai';
import axios, { type AxiosResponse } from 'axios';
import { startTestApiServer, type TestApiServer } from '../src/api/testing.js';
import { createMemoryStore, type TopologyStore } from '../src/store/index.js';

const vnd = (name: string, collection = false): string =>
  `application/vnd.org.midonet.${collection ? 'collection.' : ''}${name}+json`;

type Dto = Record<string, unknown>;

/** A minimal stand-in for midonetclient's api_lib + ResourceBase. */
class MidonetLikeClient {
  private token = '';
  constructor(private readonly base: string) {}

  async login(user: string, password: string): Promise<void> {
    const res = await axios.post(`${this.base}/login`, undefined, {
      auth: { username: user, password },
      headers: { 'x-auth-project': 'admin' },
    });
    // like auth_lib: the token comes from the Set-Cookie header, not from the body
    const cookie = String(res.headers['set-cookie']);
    const m = /sessionId=([^;]+)/.exec(cookie);
    if (!m) throw new Error(`no sessionId cookie in ${cookie}`);
    this.token = m[1]!;
  }

  async request(method: string, uri: string, type: string, body?: Dto): Promise<AxiosResponse> {
    const headers: Record<string, string> = { 'x-auth-token': this.token, accept: type };
    if (body !== undefined) headers['content-type'] = type;
    const res = await axios.request({
      method,
      url: uri,
      data: body,
      headers,
      validateStatus: () => true,
    });
    if (res.status >= 301)
      throw new Error(`${method} ${uri} → ${res.status} ${JSON.stringify(res.data)}`);
    return res;
  }

  /** ResourceBase.create: POST, then GET the Location. */
  async create(collectionUri: string, type: string, body: Dto): Promise<Dto> {
    const res = await this.request('POST', collectionUri, type, body);
    expect(res.status).to.equal(201);
    const location = res.headers['location'] as string;
    return (await this.request('GET', location, type)).data as Dto;
  }

  async list(uri: string, type: string): Promise<Dto[]> {
    return (await this.request('GET', uri, type)).data as Dto[];
  }

  async show(uri: string, type: string): Promise<Dto> {
    return (await this.request('GET', uri, type)).data as Dto;
  }

  /** ResourceBase.update: PUT to dto.uri, then GET it again. */
  async update(dto: Dto, type: string): Promise<Dto> {
    await this.request('PUT', dto['uri'] as string, type, dto);
    return this.show(dto['uri'] as string, type);
  }
}

function expectFields(dto: Dto, fields: Record<string, string>): void {
  for (const [name, type] of Object.entries(fields)) {
    expect(dto, `field ${name}`).to.have.property(name);
    const v = dto[name];
    if (type.endsWith('?')) {
      if (v !== null)
        expect(typeof v === 'object' ? (Array.isArray(v) ? 'array' : 'object') : typeof v).to.equal(
          type.slice(0, -1),
        );
    } else {
      expect(Array.isArray(v) ? 'array' : typeof v, `type of ${name}`).to.equal(type);
    }
  }
}

describe('api: MidoNet CLI compatibility (the calls python-midonetclient makes)', () => {
  let store: TopologyStore;
  let server: TestApiServer;
  let cli: MidonetLikeClient;
  let root: Dto;

  beforeEach(async () => {
    store = createMemoryStore();
    server = await startTestApiServer(store);
    cli = new MidonetLikeClient(server.url);
    await cli.login(server.user.name, server.user.password);
    root = (await cli.request('GET', `${server.url}/`, vnd('Application-v5'))).data as Dto;
    const state = await cli.show(root['systemState'] as string, vnd('SystemState-v2'));
    expect(state['state']).to.equal('ACTIVE');
  });
  afterEach(async () => {
    await server.close();
    await store.close();
  });

  it('creates, lists, shows, updates and deletes routers and their ports', async () => {
    // the client serializes every DTO field, nulls included, and some numbers as strings
    const router = await cli.create(root['routers'] as string, vnd('Router-v3'), {
      name: 'router0',
      tenantId: null,
      adminStateUp: true,
      inboundFilterId: null,
      outboundFilterId: null,
      loadBalancerId: null,
    });
    expectFields(router, {
      id: 'string',
      name: 'string',
      adminStateUp: 'boolean',
      tenantId: 'string?',
      inboundFilterId: 'string?',
      outboundFilterId: 'string?',
      uri: 'string',
      ports: 'string',
      routes: 'string',
      peerPorts: 'string',
    });
    const port = await cli.create(router['ports'] as string, vnd('Port-v3'), {
      type: 'Router',
      portAddress: '10.0.0.1',
      networkAddress: '10.0.0.0',
      networkLength: '24',
      portMac: null,
      adminStateUp: true,
    });
    expectFields(port, {
      id: 'string',
      type: 'string',
      deviceId: 'string',
      device: 'string',
      adminStateUp: 'boolean',
      portMac: 'string',
      portSubnet: 'array',
      portAddress: 'string',
      networkAddress: 'string',
      networkLength: 'number',
      peerId: 'string?',
      hostId: 'string?',
      interfaceName: 'string?',
      active: 'boolean',
      inboundFilterId: 'string?',
      uri: 'string',
      link: 'string',
    });
    expect(port['deviceId']).to.equal(router['id']);

    const listed = await cli.list(root['routers'] as string, vnd('Router-v3', true));
    expect(listed.map((r) => r['name'])).to.deep.equal(['router0']);
    const ports = await cli.list(router['ports'] as string, vnd('Port-v3', true));
    expect(ports.map((p) => p['id'])).to.deep.equal([port['id']]);
    const routes = await cli.list(router['routes'] as string, vnd('Route-v1', true));
    expectFields(routes[0]!, {
      id: 'string',
      type: 'string',
      srcNetworkAddr: 'string',
      srcNetworkLength: 'number',
      dstNetworkAddr: 'string',
      dstNetworkLength: 'number',
      nextHopPort: 'string?',
      nextHopGateway: 'string?',
      weight: 'number',
      learned: 'boolean',
    });

    const template = (root['routerTemplate'] as string).replace('{id}', router['id'] as string);
    const shown = await cli.show(template, vnd('Router-v3'));
    const updated = await cli.update(
      { ...shown, name: 'router0-renamed', adminStateUp: false },
      vnd('Router-v3'),
    );
    expect(updated).to.include({ name: 'router0-renamed', adminStateUp: false });

    await cli.request('DELETE', updated['uri'] as string, vnd('Router-v3'));
    expect(await cli.list(root['routers'] as string, vnd('Router-v3', true))).to.deep.equal([]);
  });

  it('lists and shows bridges and their ports, and links a router port to a bridge port', async () => {
    const bridge = await cli.create(root['bridges'] as string, vnd('Bridge-v4'), {
      name: 'bridge0',
      adminStateUp: true,
    });
    expectFields(bridge, {
      id: 'string',
      name: 'string',
      adminStateUp: 'boolean',
      inboundFilterId: 'string?',
      outboundFilterId: 'string?',
      uri: 'string',
      ports: 'string',
      dhcpSubnets: 'string',
    });
    const bport = await cli.create(bridge['ports'] as string, vnd('Port-v3'), {
      type: 'Bridge',
      vlanId: null,
    });
    expectFields(bport, {
      id: 'string',
      type: 'string',
      deviceId: 'string',
      vlanId: 'number?',
      peerId: 'string?',
    });
    const router = await cli.create(root['routers'] as string, vnd('Router-v3'), {
      name: 'router0',
    });
    const rport = await cli.create(router['ports'] as string, vnd('Port-v3'), {
      type: 'Router',
      portAddress: '10.0.0.1',
      networkLength: 24,
    });
    // `router router0 port port0 set peer bridge0:port0` → POST the port's link URI
    await cli.request('POST', rport['link'] as string, vnd('PortLink-v1'), {
      ...rport,
      peerId: bport['id'],
    });
    const peer = await cli.show(bport['uri'] as string, vnd('Port-v3'));
    expect(peer['peerId']).to.equal(rport['id']);
    expect(peer['peer']).to.equal(rport['uri']);
    const bridges = await cli.list(root['bridges'] as string, vnd('Bridge-v4', true));
    expect(bridges.map((b) => b['name'])).to.deep.equal(['bridge0']);
    const allPorts = await cli.list(root['ports'] as string, vnd('Port-v3', true));
    expect(allPorts).to.have.length(2);
  });

  it('lists and shows chains and their rules sorted by position', async () => {
    const chain = await cli.create(root['chains'] as string, vnd('Chain-v1'), {
      name: 'chain0',
      tenantId: null,
    });
    expectFields(chain, {
      id: 'string',
      name: 'string',
      tenantId: 'string?',
      uri: 'string',
      rules: 'string',
    });
    const rules = chain['rules'] as string;
    await cli.create(rules, vnd('Rule-v2'), {
      type: 'accept',
      position: 1,
      matchReturnFlow: true,
      nwProto: '6',
      tpDst: { start: 22, end: 22 },
      nwSrcAddress: '10.0.0.0',
      nwSrcLength: 8,
    });
    await cli.create(rules, vnd('Rule-v2'), {
      type: 'dnat',
      position: 1,
      flowAction: 'accept',
      natTargets: [{ addressFrom: '192.0.2.1', addressTo: '192.0.2.1', portFrom: 80, portTo: 80 }],
    });
    const listed = await cli.list(rules, vnd('Rule-v2', true));
    expect(listed.map((r) => [r['type'], r['position']])).to.deep.equal([
      ['dnat', 1],
      ['accept', 2],
    ]);
    expectFields(listed[1]!, {
      id: 'string',
      chainId: 'string',
      type: 'string',
      position: 'number',
      matchReturnFlow: 'boolean',
      nwProto: 'number',
      tpDst: 'object',
      nwSrcAddress: 'string',
      nwSrcLength: 'number',
      jumpChainId: 'string?',
      flowAction: 'string?',
      uri: 'string',
    });
    expectFields(listed[0]!, { flowAction: 'string', natTargets: 'array' });
    const template = (root['ruleTemplate'] as string).replace('{id}', listed[1]!['id'] as string);
    expect((await cli.show(template, vnd('Rule-v2')))['position']).to.equal(2);
    const chains = await cli.list(root['chains'] as string, vnd('Chain-v1', true));
    expect(chains.map((c) => c['name'])).to.deep.equal(['chain0']);
  });
});
