/**
 * Authentication: credentials and static tokens come from a token file (never from defaults in
 * code). `POST /login` with Basic credentials issues a login token; every other call carries
 * `X-Auth-Token` with a login token or a static token.
 *
 * Token file (JSON):
 * ```
 * { "users": [{ "name": "admin", "password": "…" }], "tokens": ["…"], "tokenTtlSeconds": 86400 }
 * ```
 * `users` and `tokens` may each be empty, not both. `tokenTtlSeconds` defaults to 86400.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TerminalError } from '../common/index.js';

/** The content of a token file. */
export interface AuthConfig {
  readonly users: readonly { readonly name: string; readonly password: string }[];
  readonly tokens: readonly string[];
  /** Lifetime of login tokens; default 86400. */
  readonly tokenTtlSeconds?: number;
}

/** Parses a token file's content; throws a TerminalError naming the problem. */
export function parseAuthConfig(text: string, source = 'token file'): AuthConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new TerminalError(`${source}: not valid JSON`, { cause: e });
  }
  const o = raw as { users?: unknown; tokens?: unknown; tokenTtlSeconds?: unknown } | null;
  const users = o?.users ?? [];
  const tokens = o?.tokens ?? [];
  const ttl = o?.tokenTtlSeconds;
  const userOk = (u: unknown): boolean => {
    const x = u as { name?: unknown; password?: unknown } | null;
    return (
      typeof x?.name === 'string' &&
      x.name !== '' &&
      typeof x.password === 'string' &&
      x.password.length >= 8
    );
  };
  if (!Array.isArray(users) || !users.every(userOk)) {
    throw new TerminalError(
      `${source}: "users" must be a list of {name, password} (password 8+ characters)`,
    );
  }
  if (!Array.isArray(tokens) || !tokens.every((t) => typeof t === 'string' && t.length >= 16)) {
    throw new TerminalError(`${source}: "tokens" must be a list of strings of 16+ characters`);
  }
  if (users.length === 0 && tokens.length === 0) {
    throw new TerminalError(`${source}: no users and no tokens: nobody could call the API`);
  }
  if (ttl !== undefined && (typeof ttl !== 'number' || !(ttl > 0))) {
    throw new TerminalError(`${source}: "tokenTtlSeconds" must be a positive number`);
  }
  return {
    users: users as AuthConfig['users'],
    tokens: tokens as string[],
    ...(ttl !== undefined ? { tokenTtlSeconds: ttl as number } : {}),
  };
}

/** Reads and parses a token file. */
export function loadAuthFile(path: string): AuthConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TerminalError(`cannot read token file ${path}`, { cause: e });
  }
  return parseAuthConfig(text, `token file ${path}`);
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time string equality (both sides hashed to the same length first). */
function same(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** A login token as returned by `POST /login` (MidoNet `Token-v1`). */
export interface Token {
  readonly key: string;
  readonly expires: string;
}

/** Most login tokens kept at once; the oldest go first. */
const MAX_SESSIONS = 10000;

/** Checks credentials and tokens; holds the login tokens it issued (per server, in memory). */
export class Authenticator {
  private readonly sessions = new Map<string, number>();
  private readonly staticTokens: readonly Buffer[];

  constructor(
    private readonly config: AuthConfig,
    private readonly now: () => number = Date.now,
  ) {
    this.staticTokens = config.tokens.map(digest);
  }

  /** Checks a Basic `Authorization` header and issues a token, or returns undefined. */
  login(authorization: string | undefined): Token | undefined {
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
    if (!m) return undefined;
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    const name = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    let found = false;
    for (const u of this.config.users) {
      // every user is compared so the time does not tell which names exist
      if (same(u.name, name) && same(u.password, password)) found = true;
    }
    if (!found) return undefined;
    const now = this.now();
    for (const [key, expires] of this.sessions) {
      if (expires <= now || this.sessions.size >= MAX_SESSIONS) this.sessions.delete(key);
      else break;
    }
    const key = randomBytes(24).toString('base64url');
    const expires = now + (this.config.tokenTtlSeconds ?? 86400) * 1000;
    this.sessions.set(key, expires);
    return { key, expires: new Date(expires).toISOString() };
  }

  /** Returns true for a valid static token or an unexpired login token. */
  check(token: string | undefined): boolean {
    if (token === undefined || token === '') return false;
    const expires = this.sessions.get(token);
    if (expires !== undefined) {
      if (expires > this.now()) return true;
      this.sessions.delete(token);
      return false;
    }
    const d = digest(token);
    return this.staticTokens.some((t) => timingSafeEqual(t, d));
  }
}
