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
    // Unqualified names in hand-written migrations resolve to the service's schema.
    extra: { options: `-c search_path=${schema}`, max: options.poolSize ?? 10 },
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
