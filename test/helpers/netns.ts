/**
 * Lab helpers for datapath tests: network namespaces that a test creates (all names carry a
 * unique prefix) and removes, "instances" as namespaces with a veth whose host end is the
 * `vn_<eni>` interface, DHCP with busybox udhcpc, ping and TCP probes. Nothing is configured in
 * the root namespace; traffic stays inside the lab's namespaces.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Prefix shared by every lab namespace (leftovers with it are removed on start). */
export const LAB_ROOT = 'edpt';

/** Runs a command; resolves with stdout, rejects with stderr in the message. */
export function sh(argv: readonly string[], input?: string, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      argv[0]!,
      argv.slice(1),
      { timeout: timeoutMs, encoding: 'utf8' },
      (e, out, err) =>
        e
          ? reject(new Error(`${argv.join(' ')}: ${String(err).trim() || e.message}`))
          : resolve(out),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Runs a command and reports only whether it exited 0. */
export async function succeeds(argv: readonly string[], timeoutMs = 10_000): Promise<boolean> {
  return sh(argv, undefined, timeoutMs).then(
    () => true,
    () => false,
  );
}

/** Why the lab cannot run here (not root, tool missing), or undefined when it can. */
export async function labUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'datapath lab tests need root (network namespaces)';
  for (const tool of ['ip', 'nft', 'dnsmasq', 'busybox', 'ping', 'nsenter']) {
    if (!(await succeeds(['sh', '-c', `command -v ${tool}`])))
      return `datapath lab tests need ${tool}`;
  }
  return undefined;
}

/** Lists namespaces whose name starts with `prefix`. */
export async function listNamespaces(prefix: string): Promise<string[]> {
  const out = (await sh(['ip', '-json', 'netns', 'list'])).trim();
  const all = out === '' ? [] : (JSON.parse(out) as { name: string }[]);
  return all.map((n) => n.name).filter((n) => n.startsWith(prefix));
}

/** Stops the processes inside the namespaces with `prefix` (they were started by the lab or
 * the agent it ran) and deletes the namespaces. */
export async function removeNamespaces(prefix: string): Promise<void> {
  for (const ns of await listNamespaces(prefix)) {
    const pids = (await sh(['ip', 'netns', 'pids', ns]).catch(() => ''))
      .split(/\s+/)
      .filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await sh(['ip', 'netns', 'del', ns]).catch(() => undefined);
  }
}

/** Removes the labs of `tag` whose test process (the pid in the prefix) is gone. */
export async function removeStaleLabs(tag: string): Promise<void> {
  const re = new RegExp(`^${LAB_ROOT}${tag}(\\d+)-`);
  const prefixes = new Set<string>();
  for (const ns of await listNamespaces(`${LAB_ROOT}${tag}`)) {
    const m = re.exec(ns);
    if (!m || existsSync(`/proc/${m[1]!}`)) continue;
    prefixes.add(m[0]);
  }
  for (const p of prefixes) await removeNamespaces(p);
}

/** A lab: a unique prefix, a host namespace, a temp dir. */
export interface Lab {
  readonly prefix: string;
  readonly hostNs: string;
  readonly dir: string;
  readonly instances: Map<string, Instance>;
}

/** An instance namespace with `eth0` peered to `vn_<id>` in the host namespace. */
export interface Instance {
  readonly ns: string;
  readonly hostDev: string;
  readonly mac: string;
}

/** Creates a lab with its host namespace. */
export async function createLab(tag: string): Promise<Lab> {
  const prefix = `${LAB_ROOT}${tag}${process.pid}-`;
  await removeNamespaces(prefix);
  const hostNs = `${prefix}h`;
  await sh(['ip', 'netns', 'add', hostNs]);
  await sh(['ip', '-n', hostNs, 'link', 'set', 'lo', 'up']);
  const dir = await mkdtemp(join(tmpdir(), `${LAB_ROOT}-`));
  return { prefix, hostNs, dir, instances: new Map() };
}

/** Removes everything the lab made (DHCP servers the agent started included). */
export async function destroyLab(lab: Lab): Promise<void> {
  await removeNamespaces(lab.prefix);
  const pids = await sh(['sh', '-c', `cat ${lab.dir}/state/*.pid 2>/dev/null || true`]);
  for (const pid of pids.split(/\s+/).filter(Boolean)) {
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!cmd.includes(lab.dir)) continue; // not ours (pid reused)
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await rm(lab.dir, { recursive: true, force: true });
}

/** Adds an instance namespace plugged into the host namespace as `hostDev`. */
export async function addInstance(
  lab: Lab,
  name: string,
  hostDev: string,
  mac: string,
  hostNs: string = lab.hostNs,
): Promise<Instance> {
  const ns = `${lab.prefix}i${lab.instances.size}`;
  await sh(['ip', 'netns', 'add', ns]);
  await sh([
    'ip',
    'link',
    'add',
    'eth0',
    'netns',
    ns,
    'address',
    mac,
    'type',
    'veth',
    'peer',
    'name',
    hostDev,
    'netns',
    hostNs,
  ]);
  await sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  await sh(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
  const inst = { ns, hostDev, mac };
  lab.instances.set(name, inst);
  return inst;
}

/** What a DHCP client got. */
export interface Lease {
  readonly ip: string;
  readonly mask: string;
  readonly router: string;
  readonly dns: string;
  /** Option 26, when the server offered it. */
  readonly mtu?: string;
}

const scripts = new Map<string, Promise<void>>();

/** Runs busybox udhcpc in the instance and applies the lease (address, default route). */
export async function dhcp(lab: Lab, inst: Instance): Promise<Lease | undefined> {
  const script = join(lab.dir, 'udhcpc.sh');
  // written once per lab, complete and executable before any client runs it (several
  // instances ask for leases at once: a client must never run a half-written script)
  let ready = scripts.get(script);
  if (!ready) {
    ready = (async () => {
      const tmp = `${script}.tmp`;
      await writeFile(
        tmp,
        [
          '#!/bin/sh',
          'case "$1" in bound|renew)',
          '  ip addr flush dev "$interface"',
          '  ip addr add "$ip/$mask" dev "$interface"',
          '  [ -n "$router" ] && ip route replace default via "$router" dev "$interface"',
          '  m=""; [ -n "$mtu" ] && m=",\\"mtu\\":\\"$mtu\\""',
          '  echo "{\\"ip\\":\\"$ip\\",\\"mask\\":\\"$mask\\",\\"router\\":\\"$router\\",\\"dns\\":\\"$dns\\"$m}" > "$LEASE_FILE"',
          ';; esac',
          '',
        ].join('\n'),
      );
      await chmod(tmp, 0o755);
      await rename(tmp, script);
    })();
    scripts.set(script, ready);
  }
  await ready;
  const leaseFile = join(lab.dir, `${inst.ns}.lease`);
  await rm(leaseFile, { force: true });
  const ok = await succeeds(
    [
      'ip',
      'netns',
      'exec',
      inst.ns,
      'env',
      `LEASE_FILE=${leaseFile}`,
      'busybox',
      'udhcpc',
      '-i',
      'eth0',
      '-q',
      '-n',
      '-t',
      '6',
      '-T',
      '1',
      '-O',
      'mtu', // asked for, as cloud images' clients do
      '-s',
      script,
    ],
    20_000,
  );
  if (!ok) return undefined;
  return JSON.parse(await readFile(leaseFile, 'utf8')) as Lease;
}

/** One ICMP echo from the instance (1 s timeout). */
export function ping(inst: Instance, ip: string, source?: string): Promise<boolean> {
  return succeeds([
    'ip',
    'netns',
    'exec',
    inst.ns,
    'ping',
    '-c1',
    '-W1',
    ...(source ? ['-I', source] : []),
    ip,
  ]);
}

// A reset connection (a client that gave up while a rule dropped its packets) emits 'error'
// on the socket: handled, or it would crash the server and fail every later connect.
const SERVER = `const net=require('node:net');for(const p of process.argv.slice(1)){net.createServer(s=>{s.on('error',()=>{});s.end('ok')}).listen(Number(p),'0.0.0.0')}`;

/** Starts a TCP server in the instance answering "ok" on each port. */
export async function tcpServer(inst: Instance, ports: readonly number[]): Promise<ChildProcess> {
  const child = spawn(
    'ip',
    ['netns', 'exec', inst.ns, process.execPath, '-e', SERVER, ...ports.map(String)],
    {
      stdio: 'ignore',
    },
  );
  await new Promise((r) => setTimeout(r, 300));
  return child;
}

const CLIENT = `const net=require('node:net');const [ip,port,ms]=process.argv.slice(1);const s=net.connect({host:ip,port:Number(port)});const t=setTimeout(()=>process.exit(2),Number(ms));let d='';s.on('data',c=>d+=c);s.on('end',()=>{clearTimeout(t);process.exit(d==='ok'?0:3)});s.on('error',()=>process.exit(4));`;

/** Opens a TCP connection from the instance and reads the server's answer. */
export function tcpConnects(
  inst: Instance,
  ip: string,
  port: number,
  timeoutMs = 1000,
): Promise<boolean> {
  return succeeds([
    'ip',
    'netns',
    'exec',
    inst.ns,
    process.execPath,
    '-e',
    CLIENT,
    ip,
    String(port),
    String(timeoutMs),
  ]);
}

const PROBER = `const net=require('node:net');const [ip,port]=process.argv.slice(1);function once(){const t0=Date.now();const s=net.connect({host:ip,port:Number(port)});const t=setTimeout(()=>{s.destroy();console.log(t0);process.exit(0)},250);s.on('data',()=>{});s.on('end',()=>{clearTimeout(t);setTimeout(once,40)});s.on('error',()=>{clearTimeout(t);console.log(t0);process.exit(0)})}once();`;

/** Connects again and again until a connection fails; resolves with the failed attempt's
 * start time (ms since epoch). */
export function firstFailure(
  inst: Instance,
  ip: string,
  port: number,
): { done: Promise<number>; child: ChildProcess } {
  const child = spawn(
    'ip',
    ['netns', 'exec', inst.ns, process.execPath, '-e', PROBER, ip, String(port)],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  const done = new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', () =>
      out.trim() ? resolve(Number(out.trim())) : reject(new Error('prober died')),
    );
  });
  return { done, child };
}

/** Waits until `check` returns true, polling every `everyMs`; false on timeout. */
export async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 100,
): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return check();
}

const GETTER = `const http=require('node:http');const [url,ms]=process.argv.slice(1);const r=http.get(url,{timeout:Number(ms)},res=>{let d='';res.on('data',c=>d+=c);res.on('end',()=>{process.stdout.write(d);process.exit(res.statusCode===200?0:3)})});r.on('timeout',()=>{r.destroy();process.exit(2)});r.on('error',()=>process.exit(4));`;

/** An HTTP GET from inside a namespace; resolves with the body, or undefined on failure. */
export function httpGet(ns: string, url: string, timeoutMs = 2000): Promise<string | undefined> {
  return sh(
    ['ip', 'netns', 'exec', ns, process.execPath, '-e', GETTER, url, String(timeoutMs)],
    undefined,
    timeoutMs + 5000,
  ).catch(() => undefined);
}

const ECHO = `const http=require('node:http');http.createServer((q,s)=>{s.end(String(q.socket.remoteAddress).replace('::ffff:',''))}).listen(Number(process.argv[1]),'0.0.0.0')`;

/** Starts an HTTP server in a namespace that answers with the client's address. */
export async function echoServer(ns: string, port: number): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', ECHO, String(port)], {
    stdio: 'ignore',
  });
  await new Promise((r) => setTimeout(r, 300));
  return child;
}
