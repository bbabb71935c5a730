/**
 * Settings: the eucalyptus.conf-style configuration file (`KEY="value"` lines, `#` comments)
 * and the defaults. Flags given on the command line override the file.
 */
import type { MappingConfig } from '../mapping/index.js';
import { DEFAULT_MAPPING_CONFIG } from '../mapping/index.js';
import { closest } from '../common/index.js';
import type { Issue } from '../common/index.js';

/** Everything the controller reads from its configuration. */
export interface Settings {
  /** `POLLING_FREQUENCY` in seconds (default 5). */
  readonly pollingSeconds: number;
  readonly mapping: MappingConfig;
}

/** The defaults (eucanetd's, except the 5 s poll the issue asks for). */
export const DEFAULT_SETTINGS: Settings = { pollingSeconds: 5, mapping: DEFAULT_MAPPING_CONFIG };

/**
 * The default settings file, as eucanetd reads it: `$EUCALYPTUS/etc/eucalyptus/eucalyptus.conf`
 * (`EUCALYPTUS` unset or empty: the root).
 */
export function defaultConfPath(env: NodeJS.ProcessEnv = process.env): string {
  const root = (env['EUCALYPTUS'] ?? '').replace(/\/+$/, '');
  return `${root}/etc/eucalyptus/eucalyptus.conf`;
}

/** The keys the controller reads. */
export const KNOWN_KEYS: readonly string[] = [
  'POLLING_FREQUENCY',
  'MIDO_MAX_RTID',
  'MIDO_MAX_ENIID',
  'MIDO_ENABLE_MIDOMD',
  'MIDO_ENABLE_ARPTABLE',
  'DISABLE_L2_ISOLATION',
  'MIDO_MD_254_EGRESS',
  'MIDO_MD_253_EGRESS',
  'MIDO_INTRT_CIDR',
  'MIDO_INTMD_CIDR',
  'MIDO_EXTMD_CIDR',
  'MIDO_MD_CIDR',
  'EUCA_VERSION',
];

/**
 * Keys that look meant for the controller but that it does not know: every `MIDO_*`,
 * `EUCANETD_*` and `POLLING_*` key, and any key within two edits of a known one (a typo).
 * The rest of an eucalyptus.conf (`CC_PORT`, `VNET_*`, …) belongs to other components and is
 * ignored silently. Each issue names the key and, when there is one, the key it resembles.
 */
export function unknownKeyIssues(keys: ReadonlyMap<string, string>): Issue[] {
  const known = new Set(KNOWN_KEYS);
  const issues: Issue[] = [];
  for (const key of keys.keys()) {
    if (known.has(key)) continue;
    const near = closest(key, KNOWN_KEYS, 2);
    if (near.length === 0 && !/^(MIDO|EUCANETD|POLLING)_/.test(key)) continue;
    issues.push({
      path: `config/${key}`,
      code: 'unknown_key',
      message: `unknown setting ${key}${near.length ? ` (did you mean ${near[0]}?)` : ''}; ignored`,
      severity: 'warning',
    });
  }
  return issues;
}

/** Parses `KEY=value` / `KEY="value"` lines. Unknown keys are kept (and ignored later). */
export function parseConfFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2]!.trim();
    if (
      (value.startsWith('"') && value.endsWith('"')) ||
      (value.startsWith("'") && value.endsWith("'"))
    ) {
      value = value.slice(1, -1);
    } else {
      value = value.replace(/\s+#.*$/, '');
    }
    out.set(m[1]!, value);
  }
  return out;
}

const DEFAULT_CIDRS: Readonly<Record<string, string>> = {
  MIDO_INTRT_CIDR: '169.254.0.0/17',
  MIDO_INTMD_CIDR: '169.254.128.0/17',
  MIDO_EXTMD_CIDR: '169.254.169.248/29',
  MIDO_MD_CIDR: '255.0.0.0/8',
};

function yes(v: string): boolean {
  return /^(y|yes|true|1)$/i.test(v.trim());
}

/** Builds settings from parsed keys; returns issues for bad values (the default is kept). */
export function settingsFromKeys(
  keys: ReadonlyMap<string, string>,
  base: Settings = DEFAULT_SETTINGS,
): { settings: Settings; issues: Issue[] } {
  const issues: Issue[] = [];
  const bad = (key: string, message: string): void => {
    issues.push({ path: `config/${key}`, code: 'bad_value', message, severity: 'error' });
  };
  const int = (key: string, min: number, max: number, dflt: number): number => {
    const v = keys.get(key);
    if (v === undefined || v === '') return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      bad(key, `${key}="${v}" must be an integer from ${min} to ${max}; using ${dflt}`);
      return dflt;
    }
    return n;
  };
  const flag = (key: string, dflt: boolean): boolean => {
    const v = keys.get(key);
    return v === undefined || v === '' ? dflt : yes(v);
  };
  const str = (key: string, dflt: string): string => keys.get(key) || dflt;
  const version = (key: string, dflt: string): string => {
    const v = keys.get(key);
    if (v === undefined || v === '') return dflt;
    const parts = v.split('.');
    if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
      bad(key, `${key}="${v}" must be four dotted numbers 0-255 (e.g. 4.4.2.0); using ${dflt}`);
      return dflt;
    }
    return v;
  };
  for (const [key, cidr] of Object.entries(DEFAULT_CIDRS)) {
    const v = keys.get(key);
    if (v !== undefined && v !== '' && v !== cidr) {
      bad(key, `${key}="${v}" is not supported: the address plan requires ${cidr}`);
    }
  }
  const m = base.mapping;
  const mapping: MappingConfig = {
    ...m,
    maxRtid: int('MIDO_MAX_RTID', 3, 32750, m.maxRtid),
    maxEniid: int('MIDO_MAX_ENIID', 11, 16777215, m.maxEniid),
    enableMidoMd: flag('MIDO_ENABLE_MIDOMD', m.enableMidoMd),
    enableArpTable: flag('MIDO_ENABLE_ARPTABLE', m.enableArpTable),
    disableL2Isolation: flag('DISABLE_L2_ISOLATION', m.disableL2Isolation),
    md254Egress: str('MIDO_MD_254_EGRESS', m.md254Egress),
    md253Egress: str('MIDO_MD_253_EGRESS', m.md253Egress),
    eucaVersion: version('EUCA_VERSION', m.eucaVersion),
  };
  const pollingSeconds = int('POLLING_FREQUENCY', 1, 3600, base.pollingSeconds);
  issues.push(...unknownKeyIssues(keys));
  return { settings: { pollingSeconds, mapping }, issues };
}
