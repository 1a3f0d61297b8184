/**
 * The gateway's edge for contact import: answers `gateway-<network>.fetchContacts` (asked by
 * contact-import with an account's decrypted credentials) by calling the adapter's `fetchContacts`.
 * One class per network, because the subject names the network. The password lives only in this
 * request: it is handed to the adapter and never logged (errors are logged by code, not by value).
 */
import { Controller, type Type } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { answerRpc } from '@parley/bus';
import { gatewayContactsRpc, rpcSubject, type FetchContactsResponse, type Network } from '@parley/contracts';
import { logger } from '@parley/observability';
import { GatewayRuntime } from './gateway-runtime.js';
import { ContactsFetchError } from './network-adapter.js';

/** The contacts controller of one network's gateway (registered by GatewayKitModule.forRoot). */
export function contactsControllerFor(network: Network): Type<unknown> {
  const rpc = gatewayContactsRpc(network).fetchContacts;

  @Controller()
  class GatewayContactsController {
    constructor(private readonly gateway: GatewayRuntime) {}

    @MessagePattern(rpcSubject(rpc))
    fetchContacts(@Payload() payload: unknown) {
      return answerRpc(rpc, payload, (request) => this.fetch(request.address, request.password));
    }

    private async fetch(address: string, password: string): Promise<FetchContactsResponse> {
      try {
        const result = await this.gateway.adapter.fetchContacts({ address, secret: password });
        if (!result.supported) return { outcome: 'failed', code: 'not-supported', message: result.reason };
        logger().info({ network, address, contacts: result.contacts.length }, 'contact list read');
        return { outcome: 'ok', contacts: result.contacts };
      } catch (error) {
        if (error instanceof ContactsFetchError) {
          logger().info({ network, address, code: error.code }, 'contact list not read');
          return { outcome: 'failed', code: error.code, message: error.message };
        }
        // Only the error's name and message: an error object may carry the request it failed on.
        logger().error(
          { network, address, error: (error as Error)?.name, reason: (error as Error)?.message },
          'contact list fetch failed',
        );
        throw error;
      }
    }
  }
  Object.defineProperty(GatewayContactsController, 'name', { value: `GatewayContactsController_${network}` });
  return GatewayContactsController;
}
