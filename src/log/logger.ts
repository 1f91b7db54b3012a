// Structured JSON logs (pino). Every string that reaches a log line passes through the same redaction the
// m3ter client uses, so an API secret, a bearer token or a presigned URL cannot be logged by accident.
import pino, { type Logger as PinoLogger } from 'pino';
import type { Logger as TemporalLogger, LogLevel, LogMetadata } from '@temporalio/common';
import { redact } from './redact';

export type AppLogger = PinoLogger;

export interface LoggerOptions {
  level?: string;
  /** Literal secrets to scrub wherever they appear (the API secret, for one). */
  secrets?: string[];
  /** Defaults to stdout; tests pass a stream to capture lines. */
  destination?: pino.DestinationStream;
  name?: string;
}

function redactDeep(value: unknown, secrets: string[], depth = 0): unknown {
  if (typeof value === 'string') return redact(value, secrets);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    return {
      type: value.name,
      message: redact(value.message, secrets),
      stack: value.stack && redact(value.stack, secrets),
    };
  }
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = /^(authorization|apiSecret|secret|password|access_token|token)$/i.test(k)
      ? '[redacted]'
      : redactDeep(v, secrets, depth + 1);
  }
  return out;
}

export function createLogger(opts: LoggerOptions = {}): AppLogger {
  const secrets = (opts.secrets ?? []).filter((s) => s.length >= 4);
  return pino(
    {
      name: opts.name ?? 'm3ter-exports',
      level: opts.level ?? 'info',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => redactDeep(obj, secrets) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((a) => (typeof a === 'string' ? redact(a, secrets) : a)) as Parameters<typeof method>,
          );
        },
      },
    },
    opts.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

/** Routes the Temporal SDK's logs (worker, workflow and activity context loggers) into pino. */
export function temporalLogger(log: AppLogger): TemporalLogger {
  const levels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
    TRACE: 'trace',
    DEBUG: 'debug',
    INFO: 'info',
    WARN: 'warn',
    ERROR: 'error',
  };
  const emit = (level: LogLevel, message: string, meta?: LogMetadata) =>
    log[levels[level]]({ ...meta }, message);
  return {
    log: emit,
    trace: (m, meta) => emit('TRACE', m, meta),
    debug: (m, meta) => emit('DEBUG', m, meta),
    info: (m, meta) => emit('INFO', m, meta),
    warn: (m, meta) => emit('WARN', m, meta),
    error: (m, meta) => emit('ERROR', m, meta),
  };
}
