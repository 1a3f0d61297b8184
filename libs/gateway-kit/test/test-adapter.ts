/**
 * A network adapter for the kit's tests: always online on "xmpp", connects to nothing; each test
 * says what `deliver` does (records, refuses, waits). An authorization request is a delivery.
 */
import type { ImDeliveryV1 } from '@parley/contracts';
import type { NetworkAdapter } from '../src/network-adapter.js';

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
