/** Reports whether the XEP-0114 component connection to the XMPP server is up; used by /health/ready. */
import { Injectable } from '@nestjs/common';
import { GatewayService } from './gateway.service.js';

@Injectable()
export class XmppComponentHealthIndicator {
  constructor(private readonly gateway: GatewayService) {}

  async check(): Promise<{ ok: boolean; detail?: string }> {
    const { adapter } = this.gateway;
    return adapter.isOnline ? { ok: true } : { ok: false, detail: `XMPP component ${adapter.status}` };
  }
}
