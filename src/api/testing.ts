/**
 * Helpers for tests and benchmarks: an API server on an ephemeral loopback port over a given
 * store, with a throw-away token file content (never used outside tests).
 */
import { randomBytes } from 'node:crypto';
import type { TopologyStore } from '../store/index.js';
import type { AuthConfig } from './auth.js';
import { startApiServer, type ApiServerOptions, type RunningApiServer } from './server.js';

/** A started test server with credentials that work against it. */
export interface TestApiServer extends RunningApiServer {
  /** A static token from its auth config. */
  readonly token: string;
  /** A user from its auth config. */
  readonly user: { readonly name: string; readonly password: string };
  readonly auth: AuthConfig;
}

/** Starts a server on 127.0.0.1 port 0 (or `listen`) with fresh random credentials. */
export async function startTestApiServer(
  store: TopologyStore,
  options: Partial<Omit<ApiServerOptions, 'store' | 'auth'>> = {},
): Promise<TestApiServer> {
  const token = randomBytes(24).toString('hex');
  const user = { name: 'admin', password: randomBytes(12).toString('hex') };
  const auth: AuthConfig = { users: [user], tokens: [token] };
  const server = await startApiServer({
    listen: { host: '127.0.0.1', port: 0 },
    ...options,
    store,
    auth,
  });
  return Object.assign(Object.create(null) as object, server, {
    token,
    user,
    auth,
  }) as TestApiServer;
}
