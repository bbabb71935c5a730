import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { openFileStore, verifyStore } from '../src/store/index.js';

const WRITER = join(import.meta.dirname, 'helpers', 'store-crash-writer.ts');

/**
 * The writer as one bundled ES module (esbuild ships with tsx), so each of the 50+ rounds pays
 * plain node start-up instead of TypeScript compilation; falls back to running it through tsx.
 */
async function writerCommand(outDir: string): Promise<string[]> {
  try {
    const esbuild = await import('esbuild');
    const outfile = join(outDir, 'crash-writer.mjs');
    await esbuild.build({
      entryPoints: [WRITER],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile,
      packages: 'external',
      logLevel: 'silent',
    });
    return [outfile];
  } catch {
    return ['--import', 'tsx', WRITER];
  }
}

interface Round {
  acks: { revision: number; action: 'create' | 'delete'; group: string }[];
  /** The commit begun but not acknowledged when the writer died: either outcome is allowed. */
  inFlight?: string;
}

/** Runs the writer, SIGKILLs it `killAfterMs` after it is ready, returns its acks. */
function runRound(
  command: string[],
  dir: string,
  firstGroup: number,
  killAfterMs: number,
): Promise<Round> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...command, dir, String(firstGroup), '7'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      const before = out;
      out += d.toString();
      if (!before.includes('ready\n') && out.includes('ready\n')) {
        setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`writer exited ${code}: ${err}`));
      const acks = out
        .split('\n')
        .filter((l) => l.startsWith('ack '))
        .map((l) => {
          const [, rev, action, group] = l.split(' ');
          return { revision: Number(rev), action: action as 'create' | 'delete', group: group! };
        });
      const lines = out.split('\n').filter((l) => l.startsWith('begin ') || l.startsWith('ack '));
      const last = lines[lines.length - 1];
      resolve(last?.startsWith('begin ') ? { acks, inFlight: last.split(' ')[2]! } : { acks });
    });
  });
}

describe('store file backend: crash safety (SIGKILL at random moments, during commits and bulk commits)', function () {
  // 52 writer processes, a quarter of whose commits write a whole generation: minutes under load
  this.timeout(240_000);

  it('keeps every acknowledged commit and no partial one across 50+ kills', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'store-crash-'));
    // inside the checkout so the bundle resolves packages from its node_modules
    const command = await writerCommand(
      join(import.meta.dirname, '..', 'node_modules', '.cache', 'store-crash'),
    );
    const expected = new Map<string, boolean>(); // group → should exist (acked create / delete)
    let lastAcked = 0;
    let totalAcks = 0;
    let bulkAcks = 0;
    let hubPorts = 0;
    let seed = 12345;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    try {
      for (let round = 0; round < 52; round++) {
        const { acks, inFlight } = await runRound(
          command,
          dir,
          round * 100_000,
          Math.floor(random() * 120),
        );
        for (const a of acks) {
          expect(a.revision).to.be.greaterThan(lastAcked);
          lastAcked = a.revision;
          expected.set(a.group, a.action === 'create');
        }
        totalAcks += acks.length;
        // groups g<n> with n % 4 === 1 are bulk creates (see the writer)
        bulkAcks += acks.filter(
          (a) => a.action === 'create' && Number(a.group.slice(1)) % 4 === 1,
        ).length;
        // reopen as the writer would: recovery, then verify every binding
        const store = await openFileStore(dir);
        try {
          expect(await store.revision()).to.be.at.least(lastAcked);
          expect(await verifyStore(store)).to.deep.equal([]);
          const chains = await store.list('chain');
          const rules = await store.list('rule');
          const present = new Set(chains.map((c) => c.id));
          for (const [group, exists] of expected) {
            if (group === inFlight) continue;
            expect(present.has(group), `round ${round}: group ${group}`).to.equal(exists);
          }
          // all or nothing: every chain present holds exactly its announced rules
          for (const c of chains) {
            const size = Number(c.metadata.find((m) => m.key === 'size')?.value);
            expect(c.ruleIds, `chain ${c.id}`).to.have.length(size);
          }
          expect(rules.length).to.equal(chains.reduce((n, c) => n + c.ruleIds.length, 0));
          // the hub's port list (replayed from list edits) holds the groups' ports in the order
          // they were created: exactly the groups present, by number
          const groups = chains
            .map((c) => c.id)
            .sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
          const hub = await store.get('router', 'hub');
          expect(hub?.portIds, `round ${round}: hub ports`).to.deep.equal(
            groups.map((g) => `${g}-p`),
          );
          hubPorts = Math.max(hubPorts, groups.length);
          // the in-flight commit is decided now: remember what recovery kept
          if (inFlight !== undefined) expected.set(inFlight, present.has(inFlight));
        } finally {
          await store.close();
        }
      }
      expect(totalAcks).to.be.greaterThan(52);
      expect(bulkAcks).to.be.greaterThan(5);
      expect(hubPorts, 'the hub list grew long enough for list edits').to.be.greaterThan(40);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
