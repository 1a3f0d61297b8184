/**
 * Readiness of gateway-xmpp: ready when it holds the XEP-0114 component connection, and also when it
 * is a standby — the server answers and refuses it the component only because another gateway
 * process holds it. A rolling update (a new pod beside the old one, which keeps the component until
 * it is stopped) waits for the new pod's readiness: counting the standby as not ready stalled it for
 * ever. Not ready: the XMPP server does not answer, or refuses for another reason.
 */
import { Injectable } from '@nestjs/common';
import { GatewayRuntime, NetworkHealthIndicator } from '@parley/gateway-kit';
import { XmppAdapter } from '../xmpp/xmpp-adapter.js';

@Injectable()
export class XmppComponentHealthIndicator extends NetworkHealthIndicator {
  constructor(private readonly runtime: GatewayRuntime) {
    super(runtime);
  }

  override async check(): Promise<{ ok: boolean; detail?: string }> {
    const { adapter } = this.runtime;
    const result = await super.check();
    if (result.ok) return { ok: true, detail: 'xmpp: online' };
    if (adapter instanceof XmppAdapter && adapter.isStandingBy) {
      return { ok: true, detail: 'xmpp: standing by (another gateway process holds the component)' };
    }
    return result;
  }
}
