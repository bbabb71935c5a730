/**
 * The human form of a plan report: one block per GNI entity, one line per change (rules with
 * their match summary and position, creates with their fields, updates with only what differs,
 * a rule changed in place as `-/+` with its field diff), the held entities with their reasons,
 * the other issues, and a summary line last.
 */
import type { FieldDiff, PlanChange, PlanReport } from './plan-report.js';

/** Options of `formatPlanReport`. */
export interface PlanTextOptions {
  /** ANSI colours (a terminal without NO_COLOR). Default false. */
  readonly color?: boolean;
  /** Width the field lists of creates wrap at (default 100). */
  readonly width?: number;
}

const SIGN = { create: '+', update: '~', delete: '-', replace: '-/+' } as const;
const COLOUR = { create: 32, update: 33, delete: 31, replace: 35 } as const;

/** A value as a short token: port ranges as `22` or `5000-5001`, lists as `a,b`. */
export function shortValue(v: unknown): string {
  if (v === undefined) return '(unset)';
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.length === 0 ? '[]' : `[${v.map(shortValue).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const r = v as { start?: unknown; end?: unknown };
    const keys = Object.keys(v);
    if (keys.length === 2 && typeof r.start === 'number' && typeof r.end === 'number')
      return r.start === r.end ? String(r.start) : `${r.start}-${r.end}`;
    return JSON.stringify(v);
  }
  return String(v);
}

function wrap(tokens: readonly string[], indent: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const t of tokens) {
    if (line !== '' && indent.length + line.length + 1 + t.length > width) {
      lines.push(indent + line);
      line = t;
    } else line = line === '' ? t : `${line} ${t}`;
  }
  if (line !== '') lines.push(indent + line);
  return lines;
}

function diffLines(diff: readonly FieldDiff[], indent: string): string[] {
  const lines: string[] = [];
  for (const d of diff) {
    if (d.field === 'rules' && typeof d.old === 'number') {
      // the rules added and removed have lines of their own: say how many, and what moved
      const counts = `${d.added?.length ?? 0} added, ${d.removed?.length ?? 0} removed`;
      lines.push(`${indent}~ rules: ${d.old} -> ${String(d.new)} (${counts})`);
      for (const m of d.moved ?? []) lines.push(`${indent}~ moved: ${m}`);
      continue;
    }
    if (d.added || d.removed || d.moved || d.reordered) {
      for (const a of d.added ?? []) lines.push(`${indent}+ ${d.field}: ${a}`);
      for (const r of d.removed ?? []) lines.push(`${indent}- ${d.field}: ${r}`);
      for (const m of d.moved ?? []) lines.push(`${indent}~ ${d.field}: ${m}`);
      if (d.reordered && !d.moved?.length) lines.push(`${indent}~ ${d.field}: order changed`);
    } else {
      lines.push(`${indent}~ ${d.field}: ${shortValue(d.old)} -> ${shortValue(d.new)}`);
    }
  }
  return lines;
}

function changeLines(c: PlanChange, options: PlanTextOptions): string[] {
  const paint = (s: string): string =>
    options.color ? `\u001b[${COLOUR[c.action]}m${s}\u001b[0m` : s;
  const head = `  ${paint(SIGN[c.action])} ${c.kind} ${c.name}`;
  const lines = [c.summary !== undefined ? `${head}: ${c.summary}` : head];
  const indent = '        ';
  if (c.action === 'replace' && c.oldSummary !== undefined)
    lines.push(`${indent}was: ${c.oldSummary}`);
  if (c.diff) lines.push(...diffLines(c.diff, indent));
  if (c.action === 'create' && c.kind !== 'rule' && c.fields) {
    const tokens = Object.entries(c.fields).map(([k, v]) => `${k}=${shortValue(v)}`);
    lines.push(...wrap(tokens, indent, options.width ?? 100));
  }
  return lines;
}

/** The summary line: `Plan: 3 to create, 1 to update, 2 to delete (…); 27 unchanged, 1 held.` */
export function planSummaryLine(report: PlanReport): string {
  const s = report.summary;
  const replaced = s.replace
    ? ` (${s.replace} of them ${s.replace === 1 ? 'a rule' : 'rules'} replaced in place)`
    : '';
  const heldEntities = report.held.length
    ? ` (${report.held.length} entit${report.held.length === 1 ? 'y' : 'ies'})`
    : '';
  return (
    `Plan: ${s.create} to create, ${s.update} to update, ${s.delete} to delete${replaced}; ` +
    `${s.unchanged} unchanged, ${s.held} held${heldEntities}.`
  );
}

/** Renders a plan report for humans. */
export function formatPlanReport(report: PlanReport, options: PlanTextOptions = {}): string {
  const lines: string[] = [];
  if (report.gniVersion !== null) lines.push(`GNI version ${report.gniVersion}`);
  for (const g of report.groups) {
    lines.push(`${g.entity} (${g.type}):`);
    for (const c of g.changes) lines.push(...changeLines(c, options));
  }
  if (report.held.length) {
    lines.push('Held (invalid input: their objects are neither changed nor deleted):');
    for (const h of report.held) {
      lines.push(`  ! ${h.entity} (${h.type})`);
      for (const r of h.reasons) lines.push(`        ${r}`);
    }
  }
  const warnings = report.issues.filter((i) => i.code.startsWith('mapping.'));
  if (warnings.length) {
    lines.push('Mapping issues:');
    for (const i of warnings) lines.push(`  ${i.severity} ${i.path} ${i.code}: ${i.message}`);
  }
  lines.push(planSummaryLine(report));
  return lines.join('\n');
}
