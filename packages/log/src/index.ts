// Shared winston logging: one logger per component, structured fields, stderr only so
// that a CLI's stdout stays clean for machine-readable output.
import winston from 'winston';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type Logger = winston.Logger;

const LEVEL_ALIASES: Record<string, LogLevel> = {
  panic: 'error', fatal: 'error', error: 'error', warning: 'warn', warn: 'warn',
  info: 'info', debug: 'debug', trace: 'debug',
};

/** Maps Calico-style level names (Info, Warning, Fatal, panic, ...) onto winston's. */
export function normaliseLevel(level: string | undefined, fallback: LogLevel = 'info'): LogLevel {
  if (!level) return fallback;
  return LEVEL_ALIASES[level.toLowerCase()] ?? fallback;
}

export interface LoggerOptions {
  level?: string;
  /** Write JSON lines instead of the human format. */
  json?: boolean;
  /** Also append to this file. */
  file?: string;
}

export function createLogger(component: string, opts: LoggerOptions = {}): Logger {
  const level = normaliseLevel(opts.level ?? process.env['TABBY_LOG_LEVEL']);
  const human = winston.format.printf((info) => {
    const { level: lvl, message, timestamp, component: comp, ...rest } = info as Record<string, unknown>;
    const fields = Object.keys(rest).length ? ' ' + JSON.stringify(rest) : '';
    return `${String(timestamp)} [${String(lvl).toUpperCase()}] ${String(comp)}: ${String(message)}${fields}`;
  });
  const format = winston.format.combine(
    winston.format.timestamp(),
    opts.json ? winston.format.json() : human,
  );
  const transports: winston.transport[] = [
    new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] }),
  ];
  if (opts.file) transports.push(new winston.transports.File({ filename: opts.file }));
  return winston.createLogger({ level, format, defaultMeta: { component }, transports });
}
