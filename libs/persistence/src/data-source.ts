/**
 * One DataSource per service, confined to that service's own PostgreSQL schema. Schema changes
 * come only from migrations (never `synchronize`); a failed migration fails the start-up.
 */
import { DataSource, type EntitySchema, type MixedList } from 'typeorm';
import { logger, retry } from '@parley/observability';
import { SnakeNamingStrategy } from './naming-strategy.js';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export interface ServiceDataSourceOptions {
  /** postgres://user:pass@host:port/db */
  url: string;
  /** The service's own schema, e.g. `accounts`. Created if missing. */
  schema: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function | string>;
  poolSize?: number;
  /** Overrides of the session limits (DATABASE_TIMEOUTS); tests use short ones. */
  timeouts?: Partial<DatabaseTimeouts>;
}

/**
 * Limits on every PostgreSQL session of every service (docs/reliability.md, "PostgreSQL"). Without
 * them a replica on a dead node kept its row locks and advisory locks for as long as the kernel
 * kept the connection (hours) and every conference waited.
 */
export interface DatabaseTimeouts {
  /**
   * Server-side TCP keepalive: after this much silence the server probes the client, and ends the
   * session (releasing its locks, advisory ones included) when `keepaliveCount` probes
   * `keepaliveIntervalSeconds` apart go unanswered: a dead client is noticed in ≈ 25 s.
   */
  keepaliveIdleSeconds: number;
  keepaliveIntervalSeconds: number;
  keepaliveCount: number;
  /**
   * A transaction idle this long (a stuck or vanished client) is ended by the server. The outbox
   * relay publishes to NATS inside its transaction, so this stays above its worst publish retry.
   */
  idleInTransactionMs: number;
  /** Waiting for a lock longer than this fails the statement: above the dead-client detection. */
  lockTimeoutMs: number;
  /**
   * No statement runs longer (ms). A migration that needs longer starts with
   * `SET LOCAL statement_timeout = 0` (migrations run in their own transaction).
   */
  statementTimeoutMs: number;
  /** Client side: how long opening a connection may take (ms). */
  connectTimeoutMs: number;
  /** Client side: TCP keepalive on the socket, first probe after this much silence (ms). */
  clientKeepaliveDelayMs: number;
}

export const DATABASE_TIMEOUTS: DatabaseTimeouts = {
  keepaliveIdleSeconds: 10,
  keepaliveIntervalSeconds: 5,
  keepaliveCount: 3,
  idleInTransactionMs: 60_000,
  lockTimeoutMs: 60_000,
  statementTimeoutMs: 60_000,
  connectTimeoutMs: 10_000,
  clientKeepaliveDelayMs: 10_000,
};

/** The pg (node-postgres) pool settings that apply `timeouts` to every connection. */
export function sessionSettings(schema: string, overrides: Partial<DatabaseTimeouts> = {}) {
  const t = { ...DATABASE_TIMEOUTS, ...overrides };
  const server = [
    `search_path=${schema}`,
    `tcp_keepalives_idle=${t.keepaliveIdleSeconds}`,
    `tcp_keepalives_interval=${t.keepaliveIntervalSeconds}`,
    `tcp_keepalives_count=${t.keepaliveCount}`,
    // Not set: tcp_user_timeout and client_connection_check_interval exist only on Linux servers; a
    // macOS PostgreSQL (a developer's embedded one) refuses the connection when they are non-zero.
  ];
  return {
    // Unqualified names in hand-written migrations resolve to the service's schema.
    options: server.map((setting) => `-c ${setting}`).join(' '),
    statement_timeout: t.statementTimeoutMs,
    lock_timeout: t.lockTimeoutMs,
    idle_in_transaction_session_timeout: t.idleInTransactionMs,
    connectionTimeoutMillis: t.connectTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: t.clientKeepaliveDelayMs,
  };
}

export function assertSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid PostgreSQL schema name "${schema}"`);
  return schema;
}

/** Builds (does not connect) a DataSource whose tables, search_path and migration log live in `schema`. */
export function createServiceDataSource(options: ServiceDataSourceOptions): DataSource {
  const schema = assertSchemaName(options.schema);
  return new DataSource({
    type: 'postgres',
    url: options.url,
    schema,
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: 'migrations',
    migrationsRun: false,
    synchronize: false,
    namingStrategy: new SnakeNamingStrategy(),
    logging: ['error', 'warn', 'migration'],
    extra: { ...sessionSettings(schema, options.timeouts), max: options.poolSize ?? 10 },
  });
}

/**
 * Connects, creates the schema if needed and runs pending migrations, each in its own transaction.
 * Throws (and so stops the service) on any failure: a half-migrated service never reports ready.
 */
export async function initializeAndMigrate(dataSource: DataSource): Promise<DataSource> {
  const schema = (dataSource.options as { schema?: string }).schema;
  if (!dataSource.isInitialized) {
    await retry(`connecting to PostgreSQL (schema ${schema})`, () => dataSource.initialize());
  }
  if (schema) await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${assertSchemaName(schema)}"`);
  const applied = await dataSource.runMigrations({ transaction: 'each' });
  if (applied.length > 0) {
    logger().info({ schema, migrations: applied.map((m) => m.name) }, 'migrations applied');
  }
  return dataSource;
}
