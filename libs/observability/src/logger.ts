/** Structured JSON logs (pino); every line carries the service name and the current correlation id. */
import { pino, type Logger } from 'pino';
import { currentCorrelationId } from './correlation.js';

export type { Logger } from 'pino';

let root: Logger | undefined;

export function createLogger(service: string, level = process.env.PARLEY_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name: service,
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin() {
      const correlationId = currentCorrelationId();
      return correlationId ? { correlationId } : {};
    },
  });
}

/** The process-wide logger, created on first use with the service name set by `initLogger`. */
export function logger(): Logger {
  root ??= createLogger(process.env.PARLEY_SERVICE_NAME ?? 'parley');
  return root;
}

export function initLogger(service: string): Logger {
  root = createLogger(service);
  return root;
}
