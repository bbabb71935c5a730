/**
 * Logging: winston, one JSON object per line, constant message text, variable data in
 * lower_snake fields. Callers create one root logger in the composition root (bin) and pass
 * child loggers down; nothing here is global.
 */
import winston from 'winston';

/** The logger type used across the project. */
export type Logger = winston.Logger;

/** Options for `createLogger`; defaults: level `info`, JSON lines on stderr, no file. */
export interface LoggerOptions {
  readonly level?: 'error' | 'warn' | 'info' | 'debug';
  /** Also append JSON lines to this file. */
  readonly file?: string;
  /** Human-readable lines on the terminal instead of JSON (default: JSON). */
  readonly pretty?: boolean;
  /** Log nothing to stderr (tests). */
  readonly silent?: boolean;
}

/** Creates a root logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const json = winston.format.combine(winston.format.timestamp(), winston.format.json());
  const transports: winston.transport[] = [
    new winston.transports.Console({
      stderrLevels: ['error', 'warn', 'info', 'debug'],
      silent: options.silent ?? false,
      format: options.pretty
        ? winston.format.combine(
            winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
            winston.format.printf(({ timestamp, level, message, ...rest }) => {
              const fields = Object.keys(rest).length ? ' ' + JSON.stringify(rest) : '';
              return `${String(timestamp)} ${level} ${String(message)}${fields}`;
            }),
          )
        : json,
    }),
  ];
  if (options.file)
    transports.push(new winston.transports.File({ filename: options.file, format: json }));
  return winston.createLogger({ level: options.level ?? 'info', transports });
}

/** A logger that drops everything (tests that do not look at logs). */
export function silentLogger(): Logger {
  return winston.createLogger({
    silent: true,
    transports: [new winston.transports.Console({ silent: true })],
  });
}
