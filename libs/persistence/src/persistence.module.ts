/** Nest wiring: TypeORM on the service's schema, migrated before the app reports ready. */
import { Injectable, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  createServiceDataSource,
  initializeAndMigrate,
  type ServiceDataSourceOptions,
} from './data-source.js';

export class PersistenceModule {
  static forRoot(options: ServiceDataSourceOptions): DynamicModule {
    return {
      module: PersistenceModule,
      global: true,
      imports: [
        TypeOrmModule.forRootAsync({
          // Connection retries happen once, in initializeAndMigrate; a failed migration is never retried.
          useFactory: () => ({ toRetry: () => false }),
          dataSourceFactory: async () => initializeAndMigrate(createServiceDataSource(options)),
        }),
      ],
      providers: [DatabaseHealthIndicator],
      exports: [TypeOrmModule, DatabaseHealthIndicator],
    };
  }
}

/** Reports whether PostgreSQL answers; used by /health/ready. */
@Injectable()
export class DatabaseHealthIndicator {
  constructor(private readonly dataSource: DataSource) {}

  async check(): Promise<{ ok: boolean; detail?: string }> {
    try {
      await this.dataSource.query('SELECT 1');
      return { ok: true };
    } catch (error) {
      return { ok: false, detail: `PostgreSQL: ${(error as Error).message}` };
    }
  }
}
