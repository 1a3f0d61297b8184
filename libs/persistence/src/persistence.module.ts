/** Nest wiring: TypeORM on the service's schema, migrated before the app reports ready. */
import {
  Injectable,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { logger } from '@parley/observability';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  createServiceDataSource,
  initializeAndMigrate,
  type ServiceDataSourceOptions,
} from './data-source.js';
import { pruneInbox } from './inbox.js';

/** How often the inbox is pruned. */
const PRUNE_EVERY_MS = 3_600_000;

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
      providers: [DatabaseHealthIndicator, InboxPruner],
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

/** Keeps the service's `inbox` (if it has one) from growing for ever: old claims are pruned hourly. */
@Injectable()
export class InboxPruner implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly dataSource: DataSource) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.prune(), PRUNE_EVERY_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async prune(): Promise<number> {
    try {
      const pruned = await pruneInbox(this.dataSource);
      if (pruned > 0) logger().info({ pruned }, 'old inbox claims pruned');
      return pruned;
    } catch (error) {
      logger().warn({ err: error }, 'inbox pruning failed; trying again later');
      return 0;
    }
  }
}
