/**
 * API: a MidoNet-v5-style REST server over a `TopologyStore`, and an HTTP client that is a
 * `TopologyStore` itself.
 * Invariants: the server is a thin adapter (validate → call the store); nothing reaches the
 * store before the body passed the size limit and validation; every call but `POST /login`
 * needs a token unless auth is explicitly off; non-loopback addresses need explicit consent.
 * Resource URIs, JSON field names and media types follow MidoNet v5 (see docs/api.md).
 */
export {
  startApiServer,
  parseListen,
  isLoopback,
  buildRouter,
  API_ROOT,
  type ApiServerOptions,
  type RunningApiServer,
  type ListenTarget,
} from './server.js';
export {
  loadAuthFile,
  parseAuthConfig,
  Authenticator,
  type AuthConfig,
  type Token,
} from './auth.js';
export { discoveryDocument, API_VERSION } from './resources/root.js';
export { createApiClient, storeErrorFromResponse, type ApiClientOptions } from './client.js';
