/**
 * Structured JSON logs (pino); every line carries the service name and the current correlation id,
 * and none carries a secret: sensitive keys are redacted at any depth and free text is scrubbed of
 * credentials (see redaction.ts).
 */
import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';
import { currentCorrelationId } from './correlation.js';
import { redactOptions, scrubSecrets } from './redaction.js';

export type { Logger } from 'pino';

let root: Logger | undefined;
/** Where logs go when not stdout (tests capturing every service's lines); see `redirectLogs`. */
let redirected: { destination: DestinationStream; level: string } | undefined;

/** pino's error serializer, with the message and stack scrubbed (an error may quote a URL or a token). */
function errorSerializer(error: Error): ReturnType<typeof stdSerializers.err> {
  const serialized = stdSerializers.err(error);
  if (typeof serialized.message === 'string') serialized.message = scrubSecrets(serialized.message);
  if (typeof serialized.stack === 'string') serialized.stack = scrubSecrets(serialized.stack);
  return serialized;
}

export function createLogger(
  service: string,
  level = redirected?.level ?? process.env.PARLEY_LOG_LEVEL ?? 'info',
  destination: DestinationStream | undefined = redirected?.destination,
): Logger {
  const options: pino.LoggerOptions = {
    name: service,
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: redactOptions(),
    serializers: { err: errorSerializer },
    hooks: {
      // The message (and any format argument) is free text: scrub what looks like a credential.
      logMethod(args, method) {
        const scrubbed = args.map((arg) => (typeof arg === 'string' ? scrubSecrets(arg) : arg));
        return method.apply(this, scrubbed as Parameters<typeof method>);
      },
    },
    mixin() {
      const correlationId = currentCorrelationId();
      return correlationId ? { correlationId } : {};
    },
  };
  return destination ? pino(options, destination) : pino(options);
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

/**
 * Sends every later log line of this process to `destination` at `level` (undefined: back to
 * stdout at PARLEY_LOG_LEVEL). For tests that run services in-process and read what they log.
 */
export function redirectLogs(destination: DestinationStream | undefined, level = 'debug'): void {
  redirected = destination ? { destination, level } : undefined;
  root = createLogger(root?.bindings().service ?? process.env.PARLEY_SERVICE_NAME ?? 'parley');
}
