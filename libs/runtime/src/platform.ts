/**
 * The modules every service's AppModule starts with: the bus, its own PostgreSQL schema (when it
 * has migrations), and the health/metrics endpoints checking both. One place, so a service's
 * AppModule lists only its own capabilities.
 */
import type { DynamicModule } from '@nestjs/common';
import { BusHealthIndicator, BusModule } from '@parley/bus';
import type { ServiceName } from '@parley/contracts';
import {
  DatabaseHealthIndicator,
  PersistenceModule,
  type ServiceDataSourceOptions,
} from '@parley/persistence';
import { HealthModule, type HealthCheckToken } from './health.js';

export interface PlatformConfig {
  PARLEY_NATS_URL: string;
  PARLEY_STREAM_REPLICAS: number;
  /** Absent (an older config): this service provisions the streams. */
  PARLEY_PROVISION_STREAMS?: boolean;
  PARLEY_DATABASE_URL?: string;
  PARLEY_DATABASE_SCHEMA?: string;
}

export interface PlatformOptions {
  /** A service with a schema passes its entities and migrations (config must carry the database URL and schema). */
  database?: Pick<ServiceDataSourceOptions, 'entities' | 'migrations'>;
  /** Readiness checks beyond NATS (and PostgreSQL). */
  checks?: HealthCheckToken[];
}

export function platformModules(
  service: ServiceName,
  config: PlatformConfig,
  options: PlatformOptions = {},
): DynamicModule[] {
  const modules = [
    BusModule.forRoot({
      service,
      natsUrl: config.PARLEY_NATS_URL,
      replicas: config.PARLEY_STREAM_REPLICAS,
      provisionStreams: config.PARLEY_PROVISION_STREAMS ?? true,
    }),
  ];
  const checks: HealthCheckToken[] = [BusHealthIndicator];
  if (options.database) {
    if (!config.PARLEY_DATABASE_URL || !config.PARLEY_DATABASE_SCHEMA) {
      throw new Error(
        `${service}: a service with migrations needs PARLEY_DATABASE_URL and PARLEY_DATABASE_SCHEMA`,
      );
    }
    modules.push(
      PersistenceModule.forRoot({
        url: config.PARLEY_DATABASE_URL,
        schema: config.PARLEY_DATABASE_SCHEMA,
        ...options.database,
      }),
    );
    checks.push(DatabaseHealthIndicator);
  }
  return [...modules, HealthModule.forRoot(service, [...checks, ...(options.checks ?? [])])];
}
