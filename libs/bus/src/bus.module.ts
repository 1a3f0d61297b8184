/**
 * The Nest face of the bus: a global module giving a service its JetStream bus (streams
 * provisioned at start-up), a typed RPC client, and a health indicator.
 */
import {
  Global,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { ServiceName } from '@parley/contracts';
import { JetStreamBus } from './jetstream-bus.js';
import { RpcClient } from './rpc.js';

export const BUS_OPTIONS = Symbol('BUS_OPTIONS');

export interface BusModuleOptions {
  service: ServiceName;
  natsUrl: string;
  /** JetStream stream replicas (1 locally, 3 on a production cluster). */
  replicas?: number;
  /**
   * Whether this service creates and updates the streams at start-up (default true, as on a
   * developer machine); false: it only checks that they exist (docs/bus.md, "Provisioning").
   */
  provisionStreams?: boolean;
}

/** Reports whether the NATS connection is usable; used by /health/ready. */
@Injectable()
export class BusHealthIndicator {
  constructor(private readonly bus: JetStreamBus) {}

  async check(): Promise<{ ok: boolean; detail?: string }> {
    if (this.bus.nc.isClosed()) return { ok: false, detail: 'NATS connection closed' };
    try {
      await this.bus.nc.flush();
      return { ok: true };
    } catch (error) {
      return { ok: false, detail: `NATS: ${(error as Error).message}` };
    }
  }
}

@Injectable()
class BusLifecycle implements OnApplicationShutdown {
  constructor(
    private readonly bus: JetStreamBus,
    private readonly rpc: RpcClient,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.rpc.close();
    await this.bus.close();
  }
}

@Global()
@Module({})
export class BusModule {
  static forRoot(options: BusModuleOptions): DynamicModule {
    return {
      module: BusModule,
      providers: [
        { provide: BUS_OPTIONS, useValue: options },
        {
          provide: JetStreamBus,
          inject: [BUS_OPTIONS],
          useFactory: async (opts: BusModuleOptions) => {
            const bus = await JetStreamBus.connect({
              natsUrl: opts.natsUrl,
              name: opts.service,
              service: opts.service,
              replicas: opts.replicas ?? 1,
            });
            if (opts.provisionStreams ?? true) await bus.ensureStreams();
            else await bus.checkStreams();
            return bus;
          },
        },
        {
          provide: RpcClient,
          inject: [BUS_OPTIONS],
          useFactory: async (opts: BusModuleOptions) => {
            const client = RpcClient.create(opts.natsUrl, opts.service);
            await client.connect();
            return client;
          },
        },
        BusHealthIndicator,
        BusLifecycle,
      ],
      exports: [JetStreamBus, RpcClient, BusHealthIndicator, BUS_OPTIONS],
    };
  }
}

/** Injects the bus options (service name, NATS URL). */
export const InjectBusOptions = () => Inject(BUS_OPTIONS);
