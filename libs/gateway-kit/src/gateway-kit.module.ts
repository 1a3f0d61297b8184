/** GatewayKitModule.forRoot(options): the gateway runtime around one adapter, plus the given health indicator. */
import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { contactsControllerFor } from './contacts.controller.js';
import {
  GATEWAY_OPTIONS,
  GatewayRuntime,
  NetworkHealthIndicator,
  type GatewayOptions,
} from './gateway-runtime.js';

@Module({})
export class GatewayKitModule {
  /** `health` is a (named) subclass of NetworkHealthIndicator, listed in the service's HealthModule. */
  static forRoot(options: GatewayOptions, health: Type<NetworkHealthIndicator>): DynamicModule {
    return {
      module: GatewayKitModule,
      // gateway-<network>.fetchContacts (contact import).
      controllers: [contactsControllerFor(options.network)],
      providers: [{ provide: GATEWAY_OPTIONS, useValue: options }, GatewayRuntime, health],
      exports: [GatewayRuntime, health],
    };
  }
}
