/**
 * `/health/live` (the process answers), `/health/ready` (every dependency answers: NATS, and
 * PostgreSQL for services with a schema) and `/metrics` (Prometheus text), on every service.
 */
import {
  Controller,
  Get,
  Header,
  HttpCode,
  HttpException,
  Inject,
  Module,
  type DynamicModule,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { answerRpc } from '@parley/bus';
import { pingRpc, rpcSubject, type ServiceName } from '@parley/contracts';
import { registry } from '@parley/observability';

export interface HealthCheck {
  check(): Promise<{ ok: boolean; detail?: string }>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type HealthCheckToken = abstract new (...args: any[]) => HealthCheck;

const HEALTH_CHECKS = Symbol('HEALTH_CHECKS');

@Controller()
class HealthController {
  constructor(
    @Inject(HEALTH_CHECKS) private readonly checks: HealthCheckToken[],
    private readonly moduleRef: ModuleRef,
  ) {}

  @Get('health/live')
  @HttpCode(200)
  live() {
    return { status: 'ok' };
  }

  @Get('health/ready')
  async ready() {
    const results = await Promise.all(
      this.checks.map(async (token) => {
        const indicator = this.moduleRef.get(token, { strict: false });
        return { name: token.name, ...(await indicator.check()) };
      }),
    );
    const body = { status: results.every((r) => r.ok) ? 'ok' : 'unavailable', checks: results };
    if (body.status !== 'ok') throw new HttpException(body, 503);
    return body;
  }

  @Get('metrics')
  @Header('Content-Type', registry.contentType)
  metrics() {
    return registry.metrics();
  }
}

/** Every service answers `<service>.ping` over NATS: the bus-level liveness check between services. */
function pingController(service: ServiceName) {
  const def = pingRpc(service);
  const startedAt = Date.now();
  @Controller()
  class PingController {
    @MessagePattern(rpcSubject(def))
    ping(@Payload() payload: unknown) {
      return answerRpc(def, payload, () => ({
        service,
        pid: process.pid,
        uptimeSeconds: (Date.now() - startedAt) / 1000,
      }));
    }
  }
  return PingController;
}

@Module({})
export class HealthModule {
  static forRoot(service: ServiceName, checks: HealthCheckToken[]): DynamicModule {
    return {
      module: HealthModule,
      controllers: [HealthController, pingController(service)],
      providers: [{ provide: HEALTH_CHECKS, useValue: checks }],
    };
  }
}
