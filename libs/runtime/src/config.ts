/**
 * Service configuration: each service declares a zod schema over `PARLEY_*` env vars with defaults
 * that work on a developer machine. Invalid configuration is reported field by field.
 */
import { z } from 'zod';

export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly problems: string[],
  ) {
    super(`${service}: invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

/** Pieces every service schema is made of. */
export const configPieces = {
  natsUrl: z
    .string()
    .regex(
      /^(nats|tls):\/\/[^\s,]+(,(nats|tls):\/\/[^\s,]+)*$/,
      'must be nats://host:port (comma-separated for a cluster)',
    )
    .default('nats://127.0.0.1:4222'),
  databaseUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\/\S+$/, 'must be postgres://user:password@host:port/database')
    .default('postgres://parley:parley@127.0.0.1:5432/parley'),
  databaseSchema: (fallback: string) =>
    z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case PostgreSQL identifier')
      .default(fallback),
  httpPort: port,
  httpHost: z.string().min(1).default('127.0.0.1'),
  streamReplicas: z.coerce.number().int().min(1).max(5).default(1),
  /** `true`: this service creates/updates the streams at start-up; `false`: it only checks they exist. */
  provisionStreams: z
    .enum(['true', 'false'], 'must be true or false')
    .default('true')
    .transform((value) => value === 'true'),
};

/** Parses `env` with the schema; throws a ConfigError naming each wrong variable. */
export function loadConfig<S extends z.ZodType>(service: string, schema: S, env = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    service,
    result.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`),
  );
}

/** The variables every service reads, as a zod object over the environment. */
export function baseConfigShape(defaultHttpPort: number) {
  return {
    PARLEY_NATS_URL: configPieces.natsUrl,
    PARLEY_HTTP_PORT: configPieces.httpPort(defaultHttpPort),
    PARLEY_HTTP_HOST: configPieces.httpHost,
    PARLEY_STREAM_REPLICAS: configPieces.streamReplicas,
    /**
     * Whether this service provisions the JetStream streams. Default true (a developer machine, a
     * test); deployments set it true for the stream provisioner only (conference-core) and false
     * for the others, whose NATS users may not change streams (docs/bus.md, "Provisioning").
     */
    PARLEY_PROVISION_STREAMS: configPieces.provisionStreams,
  };
}

/** Adds the database variables for services that own a schema. */
export function databaseConfigShape(defaultSchema: string) {
  return {
    PARLEY_DATABASE_URL: configPieces.databaseUrl,
    PARLEY_DATABASE_SCHEMA: configPieces.databaseSchema(defaultSchema),
  };
}
