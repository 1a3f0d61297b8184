/** Prometheus metrics of the live feed: how many are open, and what they carry. */
import { Counter, Gauge } from 'prom-client';
import { registry } from '@parley/observability';

export const liveFeedMetrics = {
  open: new Gauge({
    name: 'parley_live_feeds_open',
    help: 'Live feeds (SSE connections) open on this gateway',
    registers: [registry],
  }),
  sent: new Counter({
    name: 'parley_live_feed_events_total',
    help: 'Events sent on live feeds, by kind (fact or presence)',
    labelNames: ['kind'],
    registers: [registry],
  }),
};
