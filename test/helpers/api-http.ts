/**
 * A raw HTTP client for a test API server: its base URL and token, and every status returned
 * (tests assert on status codes, so none throws).
 */
import axios, { type AxiosInstance, type CreateAxiosDefaults } from 'axios';
import type { TestApiServer } from '../../src/api/testing.js';

/** An axios instance for `server` with its token; `extra` adds options (e.g. maxBodyLength). */
export function apiHttp(server: TestApiServer, extra: CreateAxiosDefaults = {}): AxiosInstance {
  return axios.create({
    baseURL: server.url,
    validateStatus: () => true,
    headers: { 'x-auth-token': server.token },
    ...extra,
  });
}
