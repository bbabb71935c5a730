/**
 * Logging: winston, constant message text (with the few fields operators grep for, like the
 * applied GNI version), variable data in lower_snake fields. One JSON object per line, or a
 * short coloured human form on a terminal. Callers create one root logger in the composition
 * root (bin) and pass child loggers down; nothing here is global.
 */
import winston from 'winston';

/** The logger type used across the project. */
export type Logger = winston.Logger;

/** Options for `createLogger`; defaults: level `info`, JSON lines on stderr, no file. */
export interface LoggerOptions {
  readonly level?: 'error' | 'warn' | 'info' | 'debug';
  /** Also append JSON lines to this file (reopened by `reopenLogFile`, e.g. on SIGHUP). */
  readonly file?: string;
  /** Human-readable lines on stderr instead of JSON (default: JSON). */
  readonly pretty?: boolean;
  /** Colour the level of human lines (default: same as `pretty`). */
  readonly color?: boolean;
  /** Log nothing to stderr (tests). */
  readonly silent?: boolean;
}

/** `pretty` for `createLogger`: human lines when stderr is a terminal, unless forced. */
export function wantsHumanLogs(format: 'auto' | 'json' | 'human' = 'auto'): boolean {
  return format === 'human' || (format === 'auto' && process.stderr.isTTY === true);
}

function humanFormat(color: boolean): winston.Logform.Format {
  return winston.format.combine(
    winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
    ...(color ? [winston.format.colorize({ level: true })] : []),
    winston.format.printf(({ timestamp, level, message, ...rest }) => {
      const fields = Object.entries(rest)
        .filter(([k]) => typeof k === 'string')
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      return `${String(timestamp)} ${level} ${String(message)}${fields ? ` ${fields}` : ''}`;
    }),
  );
}

const jsonFormat = (): winston.Logform.Format =>
  winston.format.combine(winston.format.timestamp(), winston.format.json());

/** Creates a root logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const transports: winston.transport[] = [
    new winston.transports.Console({
      stderrLevels: ['error', 'warn', 'info', 'debug'],
      silent: options.silent ?? false,
      format: options.pretty
        ? humanFormat(options.color ?? (options.pretty && !process.env['NO_COLOR']))
        : jsonFormat(),
    }),
  ];
  if (options.file)
    transports.push(new winston.transports.File({ filename: options.file, format: jsonFormat() }));
  return winston.createLogger({ level: options.level ?? 'info', transports });
}

/**
 * Reopens the log file of a logger made by `createLogger` (after logrotate moved it away):
 * the old file transport is closed and a new one writes to the same path. No-op without one.
 */
export function reopenLogFile(logger: Logger): void {
  for (const t of [...logger.transports]) {
    if (!(t instanceof winston.transports.File)) continue;
    const file = t as winston.transports.FileTransportInstance & { dirname: string };
    const path = `${file.dirname}/${file.filename}`;
    logger.remove(t);
    t.close?.();
    logger.add(new winston.transports.File({ filename: path, format: jsonFormat() }));
  }
}

/** A logger that drops everything (tests that do not look at logs). */
export function silentLogger(): Logger {
  return winston.createLogger({
    silent: true,
    transports: [new winston.transports.Console({ silent: true })],
  });
}
