/** @parley/observability — logs with correlation ids (secrets redacted), and Prometheus metrics. */
export * from './capture.js';
export * from './correlation.js';
export * from './logger.js';
export * from './metrics.js';
export * from './redaction.js';
export * from './retry.js';
