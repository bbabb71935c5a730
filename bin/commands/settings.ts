/**
 * Settings for the controller commands: defaults, then the settings file (`--config`, or
 * eucanetd's default `$EUCALYPTUS/etc/eucalyptus/eucalyptus.conf` when it exists), then flags.
 * A missing default file means the defaults; a missing `--config` file is a terminal error
 * (exit 2, which the systemd units do not restart).
 */
import { existsSync, readFileSync } from 'node:fs';
import { TerminalError } from '../../src/common/index.js';
import type { Logger } from '../../src/common/index.js';
import {
  DEFAULT_SETTINGS,
  defaultConfPath,
  parseConfFile,
  settingsFromKeys,
} from '../../src/reconciler/index.js';
import type { Settings } from '../../src/reconciler/index.js';

/** Settings and the file they came from (undefined: defaults only). */
export interface LoadedSettings {
  readonly settings: Settings;
  readonly path?: string;
}

/** Reads the settings with their source; bad values and unknown keys are logged as warnings. */
export function loadSettingsFrom(
  opts: { config?: string; interval?: string },
  log: Logger,
): LoadedSettings {
  let settings = DEFAULT_SETTINGS;
  const explicit = opts.config !== undefined;
  const path = opts.config ?? defaultConfPath();
  let used: string | undefined;
  if (explicit || existsSync(path)) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new TerminalError(`cannot read settings file ${path}: ${(e as Error).message}`);
    }
    const { settings: s, issues } = settingsFromKeys(parseConfFile(text));
    for (const i of issues)
      log.warn(i.code === 'unknown_key' ? 'unknown setting' : 'bad setting', {
        file: path,
        path: i.path,
        detail: i.message,
      });
    settings = s;
    used = path;
  }
  if (opts.interval !== undefined) {
    const n = Number(opts.interval);
    if (!(n > 0))
      throw new TerminalError(
        `--interval must be a positive number of seconds, got "${opts.interval}"`,
      );
    settings = { ...settings, pollingSeconds: n };
  }
  return { settings, ...(used !== undefined ? { path: used } : {}) };
}

/** Reads the settings (see `loadSettingsFrom`). */
export function loadSettings(opts: { config?: string; interval?: string }, log: Logger): Settings {
  return loadSettingsFrom(opts, log).settings;
}
