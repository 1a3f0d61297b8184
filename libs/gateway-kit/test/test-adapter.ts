/**
 * A network adapter for the kit's tests: always online on "xmpp", connects to nothing; each test
 * says what `deliver` does (records, refuses, waits). An authorization request is a delivery.
 * `startRuntime` runs the kit over one.
 */
import type { JetStreamBus, RpcClient } from '@parley/bus';
import type { ImDeliveryV1 } from '@parley/contracts';
import { GatewayRuntime, type GatewayOptions } from '../src/gateway-runtime.js';
import type { NetworkAdapter } from '../src/network-adapter.js';

const UNLIMITED = { perSecond: 10_000, burst: 10_000 };

/**
 * The kit's runtime over a test adapter, started (consuming xmpp's IM_OUTBOUND): no rate limit,
 * plus what the test sets.
 */
export async function startRuntime(
  adapter: TestAdapter,
  bus: JetStreamBus,
  rpc: RpcClient,
  options: Partial<GatewayOptions> = {},
): Promise<GatewayRuntime> {
  const runtime = new GatewayRuntime(
    {
      network: 'xmpp',
      createAdapter: () => adapter,
      rateLimits: { network: null, recipient: UNLIMITED, sender: UNLIMITED },
      ...options,
    },
    bus,
    rpc,
  );
  await runtime.onApplicationBootstrap();
  return runtime;
}

export abstract class TestAdapter implements NetworkAdapter {
  readonly network = 'xmpp' as const;
  readonly isOnline = true;
  readonly status = 'online';

  async connect(): Promise<void> {}
  async stop(): Promise<void> {}

  abstract deliver(delivery: ImDeliveryV1, onWritten?: () => void): Promise<void>;

  requestAuthorization(delivery: ImDeliveryV1, onWritten?: () => void): Promise<void> {
    return this.deliver(delivery, onWritten);
  }

  async fetchContacts(): Promise<never> {
    throw new Error('not in this test');
  }
}
