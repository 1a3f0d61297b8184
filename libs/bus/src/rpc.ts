/**
 * Request/reply over the Nest NATS transport, typed by the contracts: the caller validates the
 * reply, the handler validates the request, and domain errors cross the bus as data (RpcResult).
 */
import { ClientProxyFactory, Transport, type ClientProxy, type NatsOptions } from '@nestjs/microservices';
import { firstValueFrom, timeout } from 'rxjs';
import type { z } from 'zod';
import {
  inboxPrefix,
  rpcResultSchema,
  rpcSubject,
  type ServiceName,
  type ErrorCode,
  type RpcDefinition,
  type RpcError,
  type RpcResult,
} from '@parley/contracts';
import { busMetrics, logger } from '@parley/observability';

/** A domain error with a stable code; mapped once per edge (HTTP problem, RPC error, bot line). */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    readonly details?: Array<{ field: string; message: string }>,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  toRpcError(): RpcError {
    return {
      code: this.code,
      message: this.message,
      ...(this.field ? { field: this.field } : {}),
      ...(this.details ? { details: this.details } : {}),
    };
  }

  static from(error: RpcError): DomainError {
    return new DomainError(error.code, error.message, error.field, error.details);
  }
}

/**
 * NATS servers and credentials from `PARLEY_NATS_URL` (`nats://user:password@host:4222,…`): nats.js
 * ignores credentials inside server URLs, so they are lifted out into `user`/`pass`. Each service
 * has its own NATS user in production (deploy/nats/accounts.conf), which may receive replies only
 * on the service's own inbox prefix: given the service, its connections use that prefix.
 */
export function natsConnectionOptions(
  natsUrl: string,
  service?: ServiceName,
): { servers: string[]; user?: string; pass?: string; inboxPrefix?: string; noAsyncTraces: boolean } {
  let credentials: { user?: string; pass?: string } = {};
  const servers = natsUrl.split(',').map((server) => {
    const match = /^([a-z]+:\/\/)([^@/]*)@(.*)$/.exec(server);
    if (!match) return server;
    const [user, pass] = match[2]!.split(':');
    credentials = { user: decodeURIComponent(user!), pass: decodeURIComponent(pass ?? '') };
    return `${match[1]}${match[3]}`;
  });
  return {
    servers,
    ...credentials,
    ...(service ? { inboxPrefix: inboxPrefix(service) } : {}),
    // Async stack traces cost a captured stack per request (≈ 4 % of conference-core's CPU, profiled
    // in docs/performance.md): off on every connection, not only JetStream's.
    noAsyncTraces: true,
  };
}

/** Options for `app.connectMicroservice`: replicas of a service share one queue group. */
export function natsMicroserviceOptions(natsUrl: string, queue: ServiceName): NatsOptions {
  return { transport: Transport.NATS, options: { ...natsConnectionOptions(natsUrl, queue), queue } };
}

/**
 * Runs an RPC handler: parses the request with the contract's schema, calls `fn`, and wraps the
 * outcome as an RpcResult. Never throws, so a bad request can never take a handler down.
 */
export async function answerRpc<Req extends z.ZodType, Res extends z.ZodType>(
  def: RpcDefinition<Req, Res>,
  payload: unknown,
  fn: (request: z.infer<Req>) => Promise<z.input<Res>> | z.input<Res>,
): Promise<{ ok: true; data: z.infer<Res> } | { ok: false; error: RpcError }> {
  const stop = busMetrics.rpcSeconds.startTimer({ subject: rpcSubject(def) });
  const parsed = def.request.safeParse(payload);
  if (!parsed.success) {
    stop({ outcome: 'invalid' });
    const details = parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
    return {
      ok: false,
      error: {
        code: 'validation-failed',
        message: 'the request is not valid',
        field: details[0]?.field,
        details,
      },
    };
  }
  try {
    const data = def.response.parse(await fn(parsed.data)) as z.infer<Res>;
    stop({ outcome: 'ok' });
    return { ok: true, data };
  } catch (error) {
    if (error instanceof DomainError) {
      stop({ outcome: error.code });
      return { ok: false, error: error.toRpcError() };
    }
    stop({ outcome: 'internal' });
    logger().error({ err: error, subject: rpcSubject(def) }, 'RPC handler failed');
    return { ok: false, error: { code: 'internal', message: 'internal error' } };
  }
}

/** Typed caller of RPCs over NATS. */
export class RpcClient {
  private constructor(private readonly proxy: ClientProxy) {}

  /** `service`: whose NATS user this is (its replies come on its own inbox prefix). */
  static create(natsUrl: string, service?: ServiceName): RpcClient {
    return new RpcClient(
      ClientProxyFactory.create({
        transport: Transport.NATS,
        options: natsConnectionOptions(natsUrl, service),
      }),
    );
  }

  async connect(): Promise<void> {
    await this.proxy.connect();
  }

  /** Calls and returns the data, or throws the remote DomainError. */
  async call<Req extends z.ZodType, Res extends z.ZodType>(
    def: RpcDefinition<Req, Res>,
    request: z.input<Req>,
    timeoutMs = 10_000,
  ): Promise<z.infer<Res>> {
    const raw = await firstValueFrom(this.proxy.send(rpcSubject(def), request).pipe(timeout(timeoutMs)));
    const result = rpcResultSchema(def.response).parse(raw) as RpcResult<z.infer<Res>>;
    if (!result.ok) throw DomainError.from(result.error);
    return result.data;
  }

  async close(): Promise<void> {
    await this.proxy.close();
  }
}
