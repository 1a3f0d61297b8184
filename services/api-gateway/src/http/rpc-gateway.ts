/**
 * Calls the services behind the gateway: a typed RPC with the configured timeout, where a remote
 * DomainError passes through (mapped to a problem by the filter) and a silent or unreachable
 * service becomes `unavailable` (503) instead of a 500.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { z } from 'zod';
import { DomainError, RpcClient } from '@parley/bus';
import { rpcSubject, type RpcDefinition } from '@parley/contracts';
import { logger } from '@parley/observability';
import { CONFIG, type Config } from '../config.js';

@Injectable()
export class RpcGateway {
  constructor(
    private readonly rpc: RpcClient,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async call<Req extends z.ZodType, Res extends z.ZodType>(
    def: RpcDefinition<Req, Res>,
    request: z.input<Req>,
  ): Promise<z.infer<Res>> {
    try {
      const reply = await this.rpc.call(def, request, this.config.PARLEY_RPC_TIMEOUT_MS);
      // A trace for debugging; passwords and tokens in it are redacted by key (libs/observability).
      logger().debug({ subject: rpcSubject(def), request, reply }, 'RPC answered');
      return reply;
    } catch (error) {
      if (error instanceof DomainError) {
        logger().debug({ subject: rpcSubject(def), request, code: error.code }, 'RPC refused');
        throw error;
      }
      logger().error({ err: error, subject: rpcSubject(def) }, 'RPC failed');
      throw new DomainError('unavailable', `the ${def.service} service did not answer; try again later`);
    }
  }
}
