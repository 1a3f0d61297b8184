/**
 * Request/reply contracts (core NATS via @nestjs/microservices). A pair is a subject with a request
 * and a response schema; replies are wrapped in `RpcResult` so errors cross the bus as data.
 */
import { z } from 'zod';
import { subjects, type ServiceName } from './streams.js';

/** Stable error codes shared by every edge (HTTP problem types, bot answers, RPC errors). */
export const ERROR_CODES = [
  'validation-failed',
  'not-found',
  'conflict',
  'unauthorized',
  'forbidden',
  'rate-limited',
  'unavailable',
  'internal',
] as const;
export const errorCodeSchema = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof errorCodeSchema>;

export const rpcErrorSchema = z.object({
  code: errorCodeSchema,
  message: z.string(),
  /** The request field that was wrong, as a JSON path (`participants.2.address`). */
  field: z.string().optional(),
  details: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});
export type RpcError = z.infer<typeof rpcErrorSchema>;

export type RpcResult<T> = { ok: true; data: T } | { ok: false; error: RpcError };

export function rpcResultSchema<T extends z.ZodType>(data: T) {
  return z.discriminatedUnion('ok', [
    z.object({ ok: z.literal(true), data }),
    z.object({ ok: z.literal(false), error: rpcErrorSchema }),
  ]);
}

export interface RpcDefinition<Req extends z.ZodType = z.ZodType, Res extends z.ZodType = z.ZodType> {
  service: ServiceName;
  method: string;
  request: Req;
  response: Res;
}

export function defineRpc<Req extends z.ZodType, Res extends z.ZodType>(
  service: ServiceName,
  method: string,
  request: Req,
  response: Res,
): RpcDefinition<Req, Res> {
  return { service, method, request, response };
}

/** The subject of an RPC, under the current prefix. */
export function rpcSubject(def: RpcDefinition): string {
  return subjects.rpc(def.service, def.method);
}

export const pingRequestSchema = z.object({ from: z.string().max(100) });
export const pingResponseSchema = z.object({
  service: z.string(),
  pid: z.number().int(),
  uptimeSeconds: z.number(),
});

/** Every service answers `ping`: the bus-level liveness check between services. */
export function pingRpc(service: ServiceName) {
  return defineRpc(service, 'ping', pingRequestSchema, pingResponseSchema);
}
