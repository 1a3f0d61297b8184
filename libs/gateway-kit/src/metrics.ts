/** Prometheus counters every gateway exposes (on the service's /metrics), labelled by network. */
import { Counter, Gauge } from 'prom-client';
import { registry } from '@parley/observability';

export const gatewayMetrics = {
  deliveries: new Counter({
    name: 'parley_gateway_deliveries_total',
    help: 'Deliveries handled by a gateway, by outcome (sent, failed = will be retried, duplicate, undeliverable)',
    labelNames: ['network', 'outcome'],
    registers: [registry],
  }),
  inbound: new Counter({
    name: 'parley_gateway_inbound_total',
    help: 'Events a gateway received from its network, by kind and outcome (published, lost)',
    labelNames: ['network', 'kind', 'outcome'],
    registers: [registry],
  }),
  rateLimitedSeconds: new Counter({
    name: 'parley_gateway_rate_limited_seconds_total',
    help: 'Time deliveries waited for the rate limits',
    labelNames: ['network'],
    registers: [registry],
  }),
  online: new Gauge({
    name: 'parley_gateway_online',
    help: '1 while the network adapter can deliver',
    labelNames: ['network'],
    registers: [registry],
  }),
};

/** Each label child of `deliveries`, looked up once: prom-client validates and hashes labels on every `inc`. */
const deliveryCounters = new Map<string, ReturnType<typeof gatewayMetrics.deliveries.labels>>();

/** Counts one delivery of `network` with its outcome (called per recipient on the hot path). */
export function countDelivery(network: string, outcome: string): void {
  const key = `${network}\n${outcome}`;
  let counter = deliveryCounters.get(key);
  if (!counter) {
    counter = gatewayMetrics.deliveries.labels({ network, outcome });
    deliveryCounters.set(key, counter);
  }
  counter.inc();
}
