/**
 * Editing GNI documents in tests: read a fixture, turn it into its JSON form (gni-format §15),
 * change it as plain data, and read it back through the real parser.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readGni, writeGniJson } from '../../src/gni/index.js';
import type { GlobalView } from '../../src/gni/index.js';

/** The JSON form of a GNI document, as plain mutable data. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Doc = any;

/** Absolute path of a file in the repository. */
export function repoPath(rel: string): string {
  return fileURLToPath(new URL(`../../${rel}`, import.meta.url));
}

/** Reads a GNI file (XML or JSON) into its canonical JSON form. */
export function loadDoc(path: string): Doc {
  const read = readGni(readFileSync(path));
  if (!read.view)
    throw new Error(`fixture ${path} rejected: ${JSON.stringify(read.issues.slice(0, 3))}`);
  return JSON.parse(writeGniJson(read.view));
}

/** Parses a document (JSON form) into a view; throws if it is rejected. */
export function viewOf(doc: Doc): GlobalView {
  const read = readGni(JSON.stringify(doc));
  if (!read.view) throw new Error(`document rejected: ${JSON.stringify(read.issues.slice(0, 3))}`);
  return read.view;
}

function props(container: Doc): Doc[] {
  return (container.property ??= []);
}

/** The `nodes` lists of every cluster. */
export function nodesOf(doc: Doc): Doc[] {
  const clusters = props(doc.configuration).find((p: Doc) => p.name === 'clusters');
  const out: Doc[] = [];
  for (const c of clusters?.cluster ?? []) {
    const nodes = props(c).find((p: Doc) => p.name === 'nodes');
    out.push(...(nodes?.node ?? []));
  }
  return out;
}

/** Adds a copy of an existing instance (new ids, MAC, private IP `<its subnet>.<lastOctet>`),
 * placed on the same node. */
export function addInstanceLike(
  doc: Doc,
  templateId: string,
  newSuffix: string,
  lastOctet: number,
): string {
  const t = doc.instances.find((i: Doc) => i.name === templateId);
  if (!t) throw new Error(`no instance ${templateId}`);
  const privateIp = String(t.privateIp).replace(/\.\d+$/, `.${lastOctet}`);
  const id = `i-${newSuffix}`;
  const eniId = `eni-${newSuffix}`;
  const mac = `d0:0d:${newSuffix.slice(0, 2)}:${newSuffix.slice(2, 4)}:${newSuffix.slice(4, 6)}:${newSuffix.slice(6, 8)}`;
  const primary =
    t.networkInterfaces.find((n: Doc) => (n.deviceIndex ?? 0) === 0) ?? t.networkInterfaces[0];
  const eni = {
    ...primary,
    name: eniId,
    macAddress: mac,
    privateIp,
    attachmentId: `eni-attach-${newSuffix}`,
  };
  delete eni.publicIp;
  const inst = { ...t, name: id, macAddress: mac, privateIp, networkInterfaces: [eni] };
  delete inst.publicIp;
  doc.instances.push(inst);
  doc.instances.sort((a: Doc, b: Doc) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const node = nodesOf(doc).find((n: Doc) => (n.instanceIds ?? []).includes(templateId));
  node.instanceIds.push(id);
  return id;
}

/** Removes an instance, its node listing, and the routes to its interfaces (as the CLC's
 * active-route filter does). */
export function removeInstance(doc: Doc, id: string): void {
  const inst = doc.instances.find((i: Doc) => i.name === id);
  const enis = new Set<string>((inst?.networkInterfaces ?? []).map((n: Doc) => n.name));
  for (const vpc of doc.vpcs ?? []) {
    for (const rt of vpc.routeTables ?? []) {
      rt.routes = (rt.routes ?? []).filter((r: Doc) => !enis.has(r.networkInterfaceId));
    }
  }
  doc.instances = doc.instances.filter((i: Doc) => i.name !== id);
  for (const n of nodesOf(doc))
    n.instanceIds = (n.instanceIds ?? []).filter((x: string) => x !== id);
}
