/**
 * gateway-xmpp's bus plumbing is the gateway kit's runtime around the XMPP adapter (see
 * app.module.ts); this name is kept for callers that look the runtime up in the Nest container.
 */
export { GatewayRuntime as GatewayService } from '@parley/gateway-kit';
