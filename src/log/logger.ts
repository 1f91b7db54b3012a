// Structured JSON logs (pino), redacted by construction: whatever path a value takes into a line (the merge
// object however deep, `%o`/`%j` format arguments, `child()` bindings, an error and its causes), the final
// serialized line passes through the same redaction the m3ter client uses (src/log/redact.ts) before it is
// written, with every secret the process has registered (src/log/secrets.ts). Structured values are also
// redacted first, so credential keys are masked and errors keep their cause chain.
import pino, { type DestinationStream, type Logger as PinoLogger } from 'pino';
import type { Logger as TemporalLogger, LogLevel, LogMetadata } from '@temporalio/common';
import { redact, redactDeep } from './redact';
import { registerSecrets } from './secrets';

export type AppLogger = PinoLogger;

export interface LoggerOptions {
  level?: string;
  /** Literal secrets to scrub wherever they appear; registered with the process (src/log/secrets.ts). */
  secrets?: string[];
  /** Defaults to stdout; tests pass a stream to capture lines. */
  destination?: DestinationStream;
  name?: string;
}

const deep = (value: unknown) => redactDeep(value, (s) => redact(s));

/** A stream that redacts each serialized line, then hands it to `dest`. */
export function redactingStream(dest: DestinationStream): DestinationStream {
  const d = dest as DestinationStream & { flushSync?: () => void; flush?: (cb?: () => void) => void };
  return Object.assign(Object.create(null) as object, {
    write: (line: string) => d.write(redact(line)),
    ...(d.flushSync ? { flushSync: () => d.flushSync?.() } : {}),
    ...(d.flush ? { flush: (cb?: () => void) => d.flush?.(cb) } : {}),
  }) as DestinationStream;
}

export function createLogger(opts: LoggerOptions = {}): AppLogger {
  registerSecrets(opts.secrets ?? []);
  return pino(
    {
      name: opts.name ?? 'm3ter-exports',
      level: opts.level ?? 'info',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Errors are already plain objects with their cause chain (redactDeep); pino's own serializer would
      // fold the causes into one message and drop them.
      serializers: { err: (e: unknown) => e },
      formatters: {
        level: (label) => ({ level: label }),
        bindings: (bindings) => deep(bindings) as Record<string, unknown>,
        log: (obj) => deep(obj) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          // An Error first keeps pino's `err` key; every other argument (format arguments included) is redacted.
          const clean = args.map((a, i) => (i === 0 && a instanceof Error ? { err: deep(a) } : deep(a)));
          method.apply(this, clean as Parameters<typeof method>);
        },
      },
    },
    redactingStream(opts.destination ?? pino.destination({ fd: 1, sync: false })),
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
