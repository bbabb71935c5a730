/**
 * The controller's options, its cycle report and counters, and the held owners of a cycle's log
 * line (split from controller.ts).
 */
import type { Logger } from '../common/index.js';
import type { Kind, TopologyStore } from '../store/index.js';
import type { Durations } from './cycle.js';
import type { HeldOwner, PlanCounts } from './plan.js';
import type { Settings } from './settings.js';

/** Options of the controller; defaults: poll from settings, resync 60 s, backoff 1 s..60 s. */
export interface ControllerOptions {
  readonly store: TopologyStore;
  readonly gniPath: string;
  /** Where the applied version is written; default `<gni dir>/global_network_info.version`. */
  readonly versionFile?: string;
  readonly settings: Settings;
  readonly logger: Logger;
  readonly resyncMs?: number;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  /** Watch the file for changes (default true). */
  readonly watchFile?: boolean;
  /** Debounce of file events (default 50 ms). */
  readonly debounceMs?: number;
  readonly onProgress?: (done: number, total: number) => void;
  /** Called after every cycle of `run()` with its report (status file, metrics). */
  readonly onCycle?: (report: CycleReport) => void;
}

/** How a cycle read its document (for its log line and report). */
export interface ParseInfo {
  readonly mode: 'incremental' | 'full';
  readonly scanned_kb: number;
}

/** Outcome of one cycle. */
export interface CycleReport {
  readonly result: 'applied' | 'unchanged' | 'rejected' | 'failed' | 'missing';
  readonly version?: string;
  readonly counts?: PlanCounts;
  readonly durations: Durations;
  readonly issues: number;
  readonly error?: string;
  /** How the document was read this cycle, if it was: scanning only what changed since the
   * last one, or in full. */
  readonly parse?: 'incremental' | 'full';
  /** The owners this cycle held, with the reasons (absent when none). */
  readonly heldOwners?: readonly HeldOwner[];
  /** Applied cycles: desired objects per kind (what the store holds for us now), the number
   * of held entities, and the whole cycle's duration. */
  readonly objects?: Readonly<Partial<Record<Kind, number>>>;
  readonly heldEntities?: number;
  readonly totalMs?: number;
}

/** At most this many held owners are named in a cycle's log line. */
const HELD_IN_LOG = 20;

/** The cycle log line's fields for held owners: `held_owners` (the first 20 as
 * `owner: reason`) and `held_owners_count`. */
export function heldFields(held: readonly HeldOwner[]): Record<string, unknown> {
  if (held.length === 0) return {};
  return {
    held_owners: held.slice(0, HELD_IN_LOG).map((h) => `${h.owner}: ${h.reason}`),
    held_owners_count: held.length,
  };
}

/** Counters for SIGUSR1 and a metrics endpoint. */
export interface ControllerCounters {
  cycles: number;
  applied: number;
  unchanged: number;
  rejected: number;
  failed: number;
  objectsCreated: number;
  objectsUpdated: number;
  objectsDeleted: number;
}
