/**
 * Plan: what one reconcile cycle would change, as operators and QA read it, plus the ordered
 * store ops that carry it out.
 */
import type { Kind, Op } from '../store/index.js';

/** One field-level change of an update (json-diff-ts atomized form). */
export interface FieldChange {
  readonly type: 'ADD' | 'UPDATE' | 'REMOVE';
  /** JSONPath of the field, e.g. `$.addresses[?(@=='10.1.1.5')]`. */
  readonly path: string;
  readonly value?: unknown;
  readonly oldValue?: unknown;
}

/** One object-level change, for display. */
export interface PlanOp {
  readonly op: 'create' | 'update' | 'delete';
  readonly kind: Kind;
  readonly id: string;
  /** The object's name, or a readable description for unnamed kinds. */
  readonly name: string;
  readonly owner?: string;
  /** Field-level changes (updates only, when requested). */
  readonly changes?: readonly FieldChange[];
}

/** Counts of a plan. `held` counts existing objects left alone because their input is invalid. */
export interface PlanCounts {
  readonly create: number;
  readonly update: number;
  readonly delete: number;
  readonly unchanged: number;
  readonly held: number;
}

/** An owner whose stored objects the plan leaves exactly as they are, and why. `by` says who
 * held it: `input` (the mapping: invalid or dependent input), `check` (the plan check: the
 * store would refuse its ops) or `apply` (the store refused its ops in an apply). */
export interface HeldOwner {
  readonly owner: string;
  readonly reason: string;
  readonly by: 'input' | 'check' | 'apply';
}

/** A whole plan. `storeOps` are in apply order: unlinks, creates and updates parents first,
 * deletes children first, then rule reorders. */
export interface Plan {
  readonly ops: readonly PlanOp[];
  readonly storeOps: readonly Op[];
  readonly counts: PlanCounts;
  /** The held owners, sorted by owner (set by the reconcile cycle; absent from a bare diff). */
  readonly held?: readonly HeldOwner[];
}

/** True when the plan changes nothing. */
export function isEmptyPlan(plan: Plan): boolean {
  return plan.storeOps.length === 0;
}

function summarizeValue(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? 'undefined' : s.length > 80 ? s.slice(0, 77) + '...' : s;
}

/** Renders a plan for humans: one line per op, field changes indented under updates. */
export function formatPlan(plan: Plan, options: { maxOps?: number } = {}): string {
  const { create, update, delete: del, unchanged, held } = plan.counts;
  const lines: string[] = [];
  lines.push(
    `plan: ${create} to create, ${update} to update, ${del} to delete (${unchanged} unchanged` +
      (held ? `, ${held} held` : '') +
      ')',
  );
  const max = options.maxOps ?? Infinity;
  const sign = { create: '+', update: '~', delete: '-' } as const;
  let shown = 0;
  for (const op of plan.ops) {
    if (shown++ >= max) {
      lines.push(`... ${plan.ops.length - max} more (use --json for all)`);
      break;
    }
    lines.push(
      `${sign[op.op]} ${op.op} ${op.kind} ${op.name} [${op.id}]${op.owner ? ` owner=${op.owner}` : ''}`,
    );
    for (const c of op.changes ?? []) {
      const path = c.path.replace(/^\$\./, '');
      if (c.type === 'ADD') lines.push(`    + ${path} = ${summarizeValue(c.value)}`);
      else if (c.type === 'REMOVE') lines.push(`    - ${path} (was ${summarizeValue(c.value)})`);
      else lines.push(`    ~ ${path}: ${summarizeValue(c.oldValue)} -> ${summarizeValue(c.value)}`);
    }
  }
  return lines.join('\n');
}
