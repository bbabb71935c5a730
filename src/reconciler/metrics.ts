/**
 * The daemon's Prometheus metrics (prom-client, one registry per daemon) and its `/metrics`,
 * `/healthz` and `/readyz` endpoints. Fed with each cycle's report.
 *
 * - `eucanetd_cycles_total{result}`: cycles by outcome (applied, unchanged, rejected, failed,
 *   missing);
 * - `eucanetd_cycle_duration_seconds`: whole applied cycles; `eucanetd_phase_duration_seconds
 *   {phase}`: read, parse, discover, map, diff, apply;
 * - `eucanetd_objects{kind}`: managed objects per kind after the last applied cycle;
 * - `eucanetd_objects_changed_total{op}`: objects created, updated, deleted;
 * - `eucanetd_last_applied_timestamp_seconds`, `eucanetd_last_applied_info{version}` (1);
 * - `eucanetd_held_entities`: GNI entities held (invalid input) in the last applied cycle.
 *
 * `/healthz` is 200 while the process serves; `/readyz` is 200 once a cycle was applied and
 * the last cycle did not fail or reject its document, 503 otherwise (body says why).
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type * as PromClient from 'prom-client';
import type { CycleReport } from './controller.js';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const PHASES = ['read', 'parse', 'discover', 'map', 'diff', 'apply'] as const;

/**
 * prom-client, loaded by the first `DaemonMetrics`: a daemon without `--metrics` never loads
 * it (test/daemon-modules.test.ts).
 */
function promClient(): typeof PromClient {
  return createRequire(import.meta.url)('prom-client') as typeof PromClient;
}

/** The metrics of one daemon. */
export class DaemonMetrics {
  readonly registry: Registry;
  private readonly cycles: Counter<'result'>;
  private readonly cycleSeconds: Histogram;
  private readonly phaseSeconds: Histogram<'phase'>;
  private readonly objects: Gauge<'kind'>;
  private readonly changed: Counter<'op'>;
  private readonly lastApplied: Gauge;
  private readonly lastVersion: Gauge<'version'>;
  private readonly held: Gauge;
  private appliedOnce = false;
  private lastResult: CycleReport['result'] | undefined;

  constructor(options: { processMetrics?: boolean } = {}) {
    const { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } = promClient();
    this.registry = new Registry();
    const registers = [this.registry];
    this.cycles = new Counter({
      name: 'eucanetd_cycles_total',
      help: 'Reconcile cycles by result',
      labelNames: ['result'],
      registers,
    });
    for (const result of ['applied', 'unchanged', 'rejected', 'failed', 'missing'])
      this.cycles.inc({ result }, 0);
    this.cycleSeconds = new Histogram({
      name: 'eucanetd_cycle_duration_seconds',
      help: 'Duration of applied cycles, read to apply',
      buckets: BUCKETS,
      registers,
    });
    this.phaseSeconds = new Histogram({
      name: 'eucanetd_phase_duration_seconds',
      help: 'Duration of the phases of a cycle',
      labelNames: ['phase'],
      buckets: BUCKETS,
      registers,
    });
    this.objects = new Gauge({
      name: 'eucanetd_objects',
      help: 'Managed objects per kind after the last applied cycle',
      labelNames: ['kind'],
      registers,
    });
    this.changed = new Counter({
      name: 'eucanetd_objects_changed_total',
      help: 'Objects created, updated and deleted by applied cycles',
      labelNames: ['op'],
      registers,
    });
    this.lastApplied = new Gauge({
      name: 'eucanetd_last_applied_timestamp_seconds',
      help: 'Unix time of the last applied cycle',
      registers,
    });
    this.lastVersion = new Gauge({
      name: 'eucanetd_last_applied_info',
      help: 'The GNI version last applied (value 1)',
      labelNames: ['version'],
      registers,
    });
    this.held = new Gauge({
      name: 'eucanetd_held_entities',
      help: 'GNI entities held (invalid input) in the last applied cycle',
      registers,
    });
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** Records one cycle. */
  record(report: CycleReport, now: Date = new Date()): void {
    this.cycles.inc({ result: report.result });
    this.lastResult = report.result;
    for (const phase of PHASES) {
      const ms = report.durations[`${phase}_ms`];
      if (ms !== undefined) this.phaseSeconds.observe({ phase }, ms / 1000);
    }
    if (report.result !== 'applied') return;
    this.appliedOnce = true;
    if (report.totalMs !== undefined) this.cycleSeconds.observe(report.totalMs / 1000);
    for (const [kind, n] of Object.entries(report.objects ?? {})) this.objects.set({ kind }, n);
    if (report.counts) {
      this.changed.inc({ op: 'create' }, report.counts.create);
      this.changed.inc({ op: 'update' }, report.counts.update);
      this.changed.inc({ op: 'delete' }, report.counts.delete);
    }
    this.lastApplied.set(now.getTime() / 1000);
    this.lastVersion.reset();
    this.lastVersion.set({ version: report.version ?? '' }, 1);
    this.held.set(report.heldEntities ?? 0);
  }

  /** Ready: a cycle was applied and the last one neither failed nor was rejected. */
  readiness(): { ready: boolean; reason: string } {
    if (!this.appliedOnce) return { ready: false, reason: 'no cycle applied yet' };
    if (this.lastResult === 'failed') return { ready: false, reason: 'last cycle failed' };
    if (this.lastResult === 'rejected')
      return { ready: false, reason: 'last GNI document rejected' };
    if (this.lastResult === 'missing') return { ready: false, reason: 'GNI file missing' };
    return { ready: true, reason: 'ok' };
  }
}

/** A listening metrics endpoint. */
export interface MetricsServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Parses `HOST:PORT` (`[::1]:9100` for IPv6); throws naming the flag on anything else. */
export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535))
    throw new Error(`--metrics must be HOST:PORT (e.g. 127.0.0.1:9100), got "${text}"`);
  return { host: (m[1] ?? m[2])!, port };
}

/** Serves `/metrics`, `/healthz` and `/readyz` on HOST:PORT. */
export async function startMetricsServer(
  metrics: DaemonMetrics,
  listen: { host: string; port: number },
): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      metrics.registry
        .metrics()
        .then((text) =>
          res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        )
        .catch((e: unknown) => res.writeHead(500).end(String(e)));
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const r = metrics.readiness();
      res.writeHead(r.ready ? 200 : 503, { 'content-type': 'text/plain' }).end(`${r.reason}\n`);
    } else {
      res
        .writeHead(404, { 'content-type': 'text/plain' })
        .end('not found: /metrics, /healthz, /readyz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    url: `http://${host}:${a.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
