/**
 * Real etcd servers for tests: single members or a loopback cluster, on free ports, with data
 * dirs in a temp dir. `etcdAvailable()` tells a suite whether to skip (Debian's `etcd-server`
 * package provides /usr/bin/etcd). Members are started with generous transaction limits (a
 * cold build commits thousands of objects in one transaction) and killed by `stop`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The etcd binary (override with ETCD_BIN). */
export const ETCD_BIN = process.env['ETCD_BIN'] ?? 'etcd';

/** True when the etcd binary runs. */
export function etcdAvailable(): boolean {
  const r = spawnSync(ETCD_BIN, ['--version'], { stdio: 'ignore' });
  return r.status === 0;
}

/** A free loopback TCP port (closed again before it is returned). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

interface MemberConfig {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  /** etcd's own transaction limits instead of the generous ones (default false). */
  readonly etcdDefaultLimits?: boolean;
}

/** One etcd member process; `start` may be called again after `stop` (a restart). */
export class EtcdMember {
  private child: ChildProcess | undefined;
  private output = '';

  constructor(
    private readonly config: MemberConfig,
    private readonly initialCluster: string,
    private readonly token: string,
  ) {}

  /** `127.0.0.1:<client port>`. */
  get endpoint(): string {
    return `127.0.0.1:${this.config.clientPort}`;
  }

  get name(): string {
    return this.config.name;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts the process (does not wait for health). */
  start(): void {
    if (this.child) return;
    const c = this.config;
    const client = `http://127.0.0.1:${c.clientPort}`;
    const peer = `http://127.0.0.1:${c.peerPort}`;
    const args = [
      '--name',
      c.name,
      '--data-dir',
      c.dataDir,
      '--listen-client-urls',
      client,
      '--advertise-client-urls',
      client,
      '--listen-peer-urls',
      peer,
      '--initial-advertise-peer-urls',
      peer,
      '--initial-cluster',
      this.initialCluster,
      '--initial-cluster-state',
      'new',
      '--initial-cluster-token',
      this.token,
      ...(c.etcdDefaultLimits === true
        ? []
        : ['--max-txn-ops', '100000', '--max-request-bytes', String(64 * 1024 * 1024)]),
      '--heartbeat-interval',
      '50',
      '--election-timeout',
      '500',
      '--logger',
      'zap',
      '--log-level',
      'error',
    ];
    const child = spawn(ETCD_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-4000);
    });
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
    });
    this.child = child;
  }

  /** Kills the process (SIGKILL unless `graceful`) and waits for it to exit. */
  async stop(graceful = false): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(graceful ? 'SIGTERM' : 'SIGKILL');
    });
  }

  /** The last lines etcd wrote to stderr (for failure messages). */
  get log(): string {
    return this.output;
  }
}

/** A set of members forming one cluster, plus the temp dir holding their data. */
export class EtcdCluster {
  private constructor(
    readonly members: readonly EtcdMember[],
    private readonly dir: string,
  ) {}

  /** Starts `size` members (default 1) on free loopback ports and waits until healthy;
   * `etcdDefaultLimits` keeps etcd's own transaction limits (128 ops, 1.5 MiB). */
  static async start(
    size = 1,
    options: { etcdDefaultLimits?: boolean } = {},
  ): Promise<EtcdCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'etcd-test-'));
    const configs: MemberConfig[] = [];
    for (let i = 1; i <= size; i++) {
      configs.push({
        name: `n${i}`,
        clientPort: await freePort(),
        peerPort: await freePort(),
        dataDir: join(dir, `n${i}`),
        ...(options.etcdDefaultLimits === true ? { etcdDefaultLimits: true } : {}),
      });
    }
    const initial = configs.map((c) => `${c.name}=http://127.0.0.1:${c.peerPort}`).join(',');
    const cluster = new EtcdCluster(
      configs.map((c) => new EtcdMember(c, initial, `test-${configs[0]!.peerPort}`)),
      dir,
    );
    try {
      for (const m of cluster.members) m.start();
      await cluster.waitHealthy();
    } catch (e) {
      await cluster.stop();
      throw e;
    }
    return cluster;
  }

  /** `host:port,host:port…` of every member. */
  get endpoints(): string {
    return this.members.map((m) => m.endpoint).join(',');
  }

  /** A store spec for `prefix` over every member. */
  spec(prefix: string): string {
    return `etcd://${this.endpoints}/${prefix}`;
  }

  /** Waits until every running member answers /health with true (default 20 s). */
  async waitHealthy(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const m of this.members) {
      if (!m.running) continue;
      for (;;) {
        const healthy = await fetch(`http://${m.endpoint}/health`, {
          signal: AbortSignal.timeout(2000),
        })
          .then(async (r) => ((await r.json()) as { health?: string }).health === 'true')
          .catch(() => false);
        if (healthy) break;
        if (!m.running) throw new Error(`etcd ${m.name} exited:\n${m.log}`);
        if (Date.now() > deadline) throw new Error(`etcd ${m.name} not healthy:\n${m.log}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** Kills every member and removes the data dirs. */
  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.stop()));
    await rm(this.dir, { recursive: true, force: true });
  }
}
