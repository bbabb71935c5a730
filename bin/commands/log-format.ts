/**
 * The `--log-format` option of the long-running commands (run, api, agent): how log lines on
 * stderr look. `auto` (the default): human lines on a terminal, JSON otherwise.
 */
import { Option } from 'commander';

/** What `--log-format` takes. */
export type LogFormat = 'auto' | 'json' | 'human';

/** A fresh `--log-format` option (commander options are not shared between commands). */
export function logFormatOption(): Option {
  return new Option('--log-format <format>', 'stderr log lines: human on a terminal, else JSON')
    .choices(['auto', 'json', 'human'])
    .default('auto');
}
