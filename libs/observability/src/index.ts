/** @parley/observability — logs with correlation ids, and Prometheus metrics. */
export * from './correlation.js';
export * from './logger.js';
export * from './metrics.js';
export * from './retry.js';
