/**
 * The instance metadata proxy. The agent starts it inside the metadata namespace, where it
 * listens on 169.254.169.254:80. A request arrives with the source address the VPC router's
 * metadata SNAT gave it (255.0.0.n, one per interface); the proxy looks that address up in
 * the map file the agent writes (re-read when it changes), adds `Euca-Instance-Id` (`UNSET`
 * when unknown, as eucanetd's nginx did) and forwards the request to the metadata backend
 * (`http://host:port` or `unix:/path.sock`).
 *
 * Run: node md-proxy.js --listen ADDR:PORT --backend URL --map FILE [--pid-file FILE]
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { stat, readFile, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { Logger } from '../common/index.js';
import { createLogger } from '../common/index.js';

/** One line of the metadata map. */
export interface MetadataEntry {
  readonly interface: string;
  readonly instanceId: string;
}

/** Where requests go. */
export type Backend = { socketPath: string } | { host: string; port: number };

/** Parses `http://host:port[/]` or `unix:/path`. */
export function parseBackend(url: string): Backend {
  if (url.startsWith('unix:')) return { socketPath: url.slice('unix:'.length) };
  const u = new URL(url);
  if (u.protocol !== 'http:') throw new Error(`metadata backend must be http:// or unix: (${url})`);
  return { host: u.hostname, port: Number(u.port || 80) };
}

/** The client address as the map keys it (IPv4-mapped IPv6 unwrapped). */
export function clientAddress(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/** Creates the proxy server (not listening). */
export function createMetadataProxy(options: {
  backend: Backend;
  mapPath: string;
  logger: Logger;
  /** How to name the client (default: its source address). */
  source?: (req: IncomingMessage) => string;
}): Server {
  let cache: { mtimeMs: number; map: Record<string, MetadataEntry> } | undefined;
  const lookup = async (addr: string): Promise<MetadataEntry | undefined> => {
    const st = await stat(options.mapPath).catch(() => undefined);
    if (!st) return undefined;
    if (cache?.mtimeMs !== st.mtimeMs) {
      const text = await readFile(options.mapPath, 'utf8').catch(() => '{}');
      try {
        cache = { mtimeMs: st.mtimeMs, map: JSON.parse(text) as Record<string, MetadataEntry> };
      } catch {
        return undefined; // half-written: the next request reads it again
      }
    }
    return Object.hasOwn(cache.map, addr) ? cache.map[addr] : undefined;
  };
  const source = options.source ?? clientAddress;
  return createServer((req, res) => {
    const addr = source(req);
    void lookup(addr).then((entry) => {
      const instanceId = entry?.instanceId ?? 'UNSET';
      const headers = { ...req.headers, 'euca-instance-id': instanceId };
      delete headers['host'];
      const up = request(
        { ...options.backend, method: req.method, path: req.url, headers },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        },
      );
      up.on('error', (e) => {
        options.logger.warn('metadata backend failed', { error: String(e), source: addr });
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      req.pipe(up);
      options.logger.debug('metadata request', {
        source: addr,
        instance_id: instanceId,
        path: req.url,
      });
    });
  });
}

function arg(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

async function main(argv: readonly string[]): Promise<void> {
  const logger = createLogger({ level: 'info' });
  const listen = arg(argv, '--listen') ?? '169.254.169.254:80';
  const backend = parseBackend(arg(argv, '--backend') ?? 'http://127.0.0.1:8773');
  const mapPath = arg(argv, '--map');
  const pidFile = arg(argv, '--pid-file');
  if (mapPath === undefined) throw new Error('--map FILE is required');
  const server = createMetadataProxy({ backend, mapPath, logger });
  const idx = listen.lastIndexOf(':');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(listen.slice(idx + 1)), listen.slice(0, idx), resolve);
  });
  if (pidFile) await writeFile(pidFile, `${process.pid}\n`);
  logger.info('metadata proxy listening', { listen, map: mapPath });
  const stop = (): void => {
    server.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`md-proxy: ${String(e)}\n`);
    process.exit(1);
  });
}
