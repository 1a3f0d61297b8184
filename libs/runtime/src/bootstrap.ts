/**
 * Starts a Parley service: validated configuration, Nest on Fastify, the NATS request/reply
 * transport (one queue group per service), graceful shutdown on SIGTERM/SIGINT (shutdown.ts).
 * A service's main.ts is one call to `runService`.
 */
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Type } from '@nestjs/common';
import { natsMicroserviceOptions } from '@parley/bus';
import type { ServiceName } from '@parley/contracts';
import { initLogger, logger, redactUrl } from '@parley/observability';
import { ConfigError } from './config.js';
import { PinoNestLogger } from './nest-logger.js';
import { ShutdownOnSignal } from './shutdown.js';

export interface ServiceBootstrap {
  service: ServiceName;
  /** The root module, built from the validated configuration. */
  module: Type<unknown> | ReturnType<typeof Object>;
  natsUrl: string;
  httpPort: number;
  httpHost: string;
  /** Extra set-up of the HTTP app before it listens (e.g. the api-gateway's OpenAPI). */
  configure?: (app: NestFastifyApplication) => Promise<void> | void;
}

/** Builds and starts the app; returns it listening. Used by main.ts and by integration tests. */
export async function startService(options: ServiceBootstrap): Promise<NestFastifyApplication> {
  const app = await createService(options);
  await listenService(app, options);
  return app;
}

/** Builds the app (its providers connect to NATS and PostgreSQL and migrate); nothing consumes yet. */
async function createService(options: ServiceBootstrap): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    options.module as Type<unknown>,
    new FastifyAdapter({ bodyLimit: 1_048_576 }),
    { logger: new PinoNestLogger(), abortOnError: false },
  );
  logRequests(app);
  app.connectMicroservice(natsMicroserviceOptions(options.natsUrl, options.service), {
    inheritAppConfig: true,
  });
  await options.configure?.(app);
  return app;
}

/**
 * Starts what the app serves: request/reply (it answers ping from here), then the lifecycle hooks
 * (consumers start) and the HTTP port.
 */
async function listenService(app: NestFastifyApplication, options: ServiceBootstrap): Promise<void> {
  await app.startAllMicroservices();
  await app.listen(options.httpPort, options.httpHost);
}

/** Probes and scrapes: logged at debug only, or every few seconds would bury the requests that matter. */
const QUIET_PATHS = /^\/(health\/|metrics)/;

/**
 * One line per HTTP request once answered, through the same redacting logger: method, URL
 * (secret query values redacted), status and time — and at debug level the headers, whose
 * authorization and cookies are redacted by key. Fastify's own logger stays off.
 */
function logRequests(app: NestFastifyApplication): void {
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onResponse', (request, reply, done) => {
      const log = logger();
      const quiet = QUIET_PATHS.test(request.url);
      const level = reply.statusCode >= 500 ? 'warn' : quiet ? 'debug' : 'info';
      if (log.isLevelEnabled(level)) {
        const req: Record<string, unknown> = {
          method: request.method,
          url: redactUrl(request.url),
          remoteAddress: request.socket.remoteAddress,
        };
        if (log.isLevelEnabled('debug')) req.headers = request.headers;
        log[level](
          { req, res: { statusCode: reply.statusCode }, responseTimeMs: Math.round(reply.elapsedTime) },
          'request completed',
        );
      }
      done();
    });
}

/** The configuration fields every service schema has (see `baseConfigShape`). */
export interface ServiceConfig {
  PARLEY_NATS_URL: string;
  PARLEY_HTTP_PORT: number;
  PARLEY_HTTP_HOST: string;
}

/**
 * The whole of a service's main.ts: load the configuration (a ConfigError names each wrong
 * variable), build the root module from it, start, and exit non-zero with a clear message on any
 * start-up failure.
 */
export async function runService<C extends ServiceConfig>(
  service: ServiceName,
  loadConfig: () => C,
  buildModule: (config: C) => ServiceBootstrap['module'],
  configure?: ServiceBootstrap['configure'],
): Promise<void> {
  initLogger(service);
  process.env.PARLEY_SERVICE_NAME = service;
  const shutdown = new ShutdownOnSignal(service);
  try {
    const config = loadConfig();
    const options: ServiceBootstrap = {
      service,
      module: buildModule(config),
      natsUrl: config.PARLEY_NATS_URL,
      httpPort: config.PARLEY_HTTP_PORT,
      httpHost: config.PARLEY_HTTP_HOST,
      configure,
    };
    const app = await createService(options);
    const starting = listenService(app, options);
    shutdown.starting(app, starting);
    await starting;
    logger().info({ url: await app.getUrl() }, `${service} started`);
  } catch (error) {
    // A signal arrived meanwhile: the stop in progress ends the process (exit 0 once drained).
    if (shutdown.isStopping) return;
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
    } else {
      logger().fatal({ err: error }, `${service} failed to start`);
      process.stderr.write(`${service} failed to start: ${(error as Error).message}\n`);
    }
    process.exit(1);
  }
}
