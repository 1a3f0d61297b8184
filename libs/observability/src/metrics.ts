/**
 * Prometheus metrics: the standard process metrics plus the bus counters and handler latencies
 * every service shares. One registry per process.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
/**
 * Event-loop lag is sampled by a timer: prom-client's default (every 10 ms) cost each idle service
 * 4.8 ms of CPU a second on our machines — 8 services, 38 ms/s, a fifth of Parley's own CPU per
 * delivery at N = 100 in the benchmark (docs/performance.md). Sampled every 250 ms (0.3 ms/s) the
 * lag histogram still shows every stall that long or longer, each with its true length.
 */
const EVENT_LOOP_SAMPLE_MS = 250;
collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });

export const busMetrics = {
  published: new Counter({
    name: 'parley_bus_published_total',
    help: 'Messages published to JetStream',
    labelNames: ['stream'],
    registers: [registry],
  }),
  consumed: new Counter({
    name: 'parley_bus_consumed_total',
    help: 'Messages handled and acked by a durable consumer',
    labelNames: ['stream', 'consumer'],
    registers: [registry],
  }),
  redelivered: new Counter({
    name: 'parley_bus_redelivered_total',
    help: 'Messages that failed in a handler and were scheduled for redelivery',
    labelNames: ['stream', 'consumer'],
    registers: [registry],
  }),
  deadLettered: new Counter({
    name: 'parley_bus_dead_lettered_total',
    help: 'Messages sent to the dead-letter subject',
    labelNames: ['stream', 'consumer', 'reason'],
    registers: [registry],
  }),
  handlerSeconds: new Histogram({
    name: 'parley_bus_handler_seconds',
    help: 'Time spent in a durable consumer handler',
    labelNames: ['stream', 'consumer', 'outcome'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  }),
  rpcSeconds: new Histogram({
    name: 'parley_rpc_handler_seconds',
    help: 'Time spent answering a request/reply call',
    labelNames: ['subject', 'outcome'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  }),
};
