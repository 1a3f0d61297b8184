/** The XMPP gateway: the component adapter, its bus plumbing and its health indicator. */
import { Module, type DynamicModule } from '@nestjs/common';
import type { XmppAdapterOptions } from '../xmpp/xmpp-adapter.js';
import { ADAPTER_OPTIONS, GatewayService } from './gateway.service.js';
import { XmppComponentHealthIndicator } from './xmpp-health.indicator.js';

@Module({})
export class GatewayModule {
  static forRoot(options: XmppAdapterOptions): DynamicModule {
    return {
      module: GatewayModule,
      providers: [
        { provide: ADAPTER_OPTIONS, useValue: options },
        GatewayService,
        XmppComponentHealthIndicator,
      ],
      exports: [XmppComponentHealthIndicator],
    };
  }
}
