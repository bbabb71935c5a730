/**
 * Flow probes for the gateway namespace test: many short HTTP flows and long-lived TCP flows
 * from an instance, which gateway carried each (conntrack in the gateways' router namespaces),
 * and the upstream's next hops per destination. Only inside the lab's namespaces.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { sh } from './netns.js';

/** `N` HTTP GETs, one connection each (distinct source ports): `[{ port, body }]`. */
const MANY = `const http=require('node:http');const [url,n]=process.argv.slice(1);(async()=>{const out=[];for(let i=0;i<Number(n);i++){out.push(await new Promise(r=>{const q=http.get(url,{agent:false,timeout:3000},s=>{let b='';s.on('data',c=>b+=c);s.on('end',()=>r({port:q.socket.localPort,body:b}))});q.on('socket',()=>{});q.on('error',e=>r({port:0,body:String(e)}));q.on('timeout',()=>q.destroy(new Error('timeout')))}))}console.log(JSON.stringify(out))})()`;

/** Runs `n` HTTP flows from namespace `ns` to `url`; source port and answer of each. */
export async function manyFlows(
  ns: string,
  url: string,
  n: number,
): Promise<{ port: number; body: string }[]> {
  const out = await sh(
    ['ip', 'netns', 'exec', ns, process.execPath, '-e', MANY, url, String(n)],
    undefined,
    120_000,
  );
  return JSON.parse(out) as { port: number; body: string }[];
}

/** A TCP echo server (`socket.pipe(socket)`) in `ns`. */
export function tcpEcho(ns: string, port: number): ChildProcess {
  const src = `require('node:net').createServer(s=>{s.on('error',()=>{});s.pipe(s)}).listen(${port},'0.0.0.0')`;
  return spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', src], { stdio: 'ignore' });
}

/** `k` long-lived connections from `ns` to `host:port`, each sending a byte every 100 ms; the
 * status file holds, per connection, its source port and the times (ms) echoes arrived. */
export function longFlows(
  ns: string,
  host: string,
  port: number,
  k: number,
  statusPath: string,
): ChildProcess {
  const src = `const net=require('node:net');const fs=require('node:fs');const cs=[];for(let i=0;i<${k};i++){const c={port:0,times:[],closed:false};const s=net.connect({host:'${host}',port:${port}},()=>{c.port=s.localPort});s.on('data',()=>c.times.push(Date.now()));s.on('error',()=>c.closed=true);s.on('close',()=>c.closed=true);setInterval(()=>{if(!c.closed)s.write('x')},100);cs.push(c)}setInterval(()=>{fs.writeFileSync('${statusPath}.tmp',JSON.stringify(cs));fs.renameSync('${statusPath}.tmp','${statusPath}')},200)`;
  return spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', src], { stdio: 'ignore' });
}

/** What `longFlows` reports. */
export interface LongFlow {
  readonly port: number;
  readonly times: readonly number[];
  readonly closed: boolean;
}

/** Reads the long flows' status file (empty while it does not exist yet). */
export async function readLongFlows(statusPath: string): Promise<LongFlow[]> {
  const text = await readFile(statusPath, 'utf8').catch(() => '[]');
  return JSON.parse(text) as LongFlow[];
}

/** The longest time between two echoes of `flow` (or from `from` to its first echo, or from
 * its last echo to `to`) inside [from, to]. */
export function longestGap(flow: LongFlow, from: number, to: number): number {
  const inside = flow.times.filter((t) => t >= from && t <= to);
  const points = [from, ...inside, to];
  let gap = 0;
  for (let i = 1; i < points.length; i++) gap = Math.max(gap, points[i]! - points[i - 1]!);
  return gap;
}

/** Source ports (`sport`, or `dport` with `reply`: the instance's port seen from the internet)
 * of the TCP conntrack entries of namespace `ns` that match the conntrack filter `args`. */
export async function conntrackPorts(
  ns: string,
  args: readonly string[],
  field: 'sport' | 'dport',
): Promise<number[]> {
  const out = await sh(['ip', 'netns', 'exec', ns, 'conntrack', '-L', '-p', 'tcp', ...args]).catch(
    () => '',
  );
  return out
    .split('\n')
    .map((l) => new RegExp(`${field}=(\\d+)`).exec(l)?.[1])
    .filter((p): p is string => p !== undefined)
    .map(Number);
}

/** Flushes the conntrack table of namespace `ns`. */
export async function conntrackFlush(ns: string): Promise<void> {
  await sh(['ip', 'netns', 'exec', ns, 'conntrack', '-F']).catch(() => '');
}

/** Next hops per destination in `ip route show` output (ECMP routes list several). */
export function nextHops(routes: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let dst = '';
  for (const line of routes.split('\n')) {
    if (line.trim() === '') continue;
    if (!/^\s/.test(line)) {
      dst = line.split(' ')[0]!;
      out.set(dst, []);
    }
    const via = /(?:^|\s)via (\S+)/.exec(line)?.[1];
    if (via !== undefined) out.get(dst)!.push(via);
  }
  for (const hops of out.values()) hops.sort();
  return out;
}

/** Per gateway (tag → router namespace), the flows (instance source ports of `ports`) whose
 * conntrack entry shows they left through it (`out`: from `privateAddr` to port `dport`) and
 * came back through it (`back`: from `upstream` to `publicAddr`). */
export async function flowPaths(
  gateways: ReadonlyMap<string, string>,
  addrs: { privateAddr: string; publicAddr: string; upstream: string; dport: number },
  ports: ReadonlySet<number>,
): Promise<{ out: Map<string, number[]>; back: Map<string, number[]> }> {
  const out = new Map<string, number[]>();
  const back = new Map<string, number[]>();
  const args = {
    out: ['--orig-src', addrs.privateAddr, '--dport', String(addrs.dport)],
    back: ['--orig-src', addrs.upstream, '--orig-dst', addrs.publicAddr],
  };
  for (const [g, ns] of gateways) {
    out.set(
      g,
      (await conntrackPorts(ns, args.out, 'sport')).filter((p) => ports.has(p)),
    );
    back.set(
      g,
      (await conntrackPorts(ns, args.back, 'dport')).filter((p) => ports.has(p)),
    );
  }
  return { out, back };
}

/** The flows that left through one gateway and came back only through another. */
export function crossedFlows(paths: {
  out: ReadonlyMap<string, number[]>;
  back: ReadonlyMap<string, number[]>;
}): number[] {
  const all = new Set([...paths.out.values()].flat());
  return [...all].filter((p) =>
    [...paths.out].some(
      ([g, ports]) =>
        ports.includes(p) &&
        !paths.back.get(g)!.includes(p) &&
        [...paths.back].some(([h, back]) => h !== g && back.includes(p)),
    ),
  );
}

/** Which gateway (tag → router namespace) each TCP connection from `privateAddr` to port
 * `dport` crosses now: conntrack flushed, then the entries the next second's packets make. */
export async function carriers(
  gateways: ReadonlyMap<string, string>,
  privateAddr: string,
  dport: number,
): Promise<Map<number, string>> {
  for (const ns of gateways.values()) await conntrackFlush(ns);
  await new Promise((r) => setTimeout(r, 1000));
  const out = new Map<number, string>();
  const args = ['--orig-src', privateAddr, '--dport', String(dport)];
  for (const [g, ns] of gateways)
    for (const p of await conntrackPorts(ns, args, 'sport')) out.set(p, g);
  return out;
}
