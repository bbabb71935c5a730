/**
 * A minimal stand-in for python-midonetclient's api_lib + ResourceBase, for tests: log in and
 * take the token from Set-Cookie, then send requests with the vendor media types the library
 * sends, create by POST + GET Location, update by PUT to `dto.uri` + GET.
 */
import { expect } from 'chai';
import axios, { type AxiosResponse } from 'axios';

/** A vendor media type (`collection` for lists). */
export const vnd = (name: string, collection = false): string =>
  `application/vnd.org.midonet.${collection ? 'collection.' : ''}${name}+json`;

/** A JSON object. */
export type Dto = Record<string, unknown>;

/** A minimal stand-in for midonetclient's api_lib + ResourceBase. */
export class MidonetLikeClient {
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

  /** Sends one request as the library does and returns the response whatever its status. */
  async raw(method: string, uri: string, type: string, body?: Dto): Promise<AxiosResponse> {
    const headers: Record<string, string> = { 'x-auth-token': this.token, accept: type };
    if (body !== undefined) headers['content-type'] = type;
    return axios.request({ method, url: uri, data: body, headers, validateStatus: () => true });
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

/** Checks that each field is present with the JSON type given (`?` allows null). */
export function expectFields(dto: Dto, fields: Record<string, string>): void {
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
