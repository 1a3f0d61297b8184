/** @parley/gateway-kit — everything network gateways share; an adapter only translates its protocol. */
export * from './network-adapter.js';
export * from './gateway-runtime.js';
export * from './gateway-kit.module.js';
export * from './contacts.controller.js';
export * from './rate-limiter.js';
export * from './backoff.js';
export * from './metrics.js';
export * from './config.js';
export * from './text.js';
export * from './delivery-progress.js';
export * from './partition-leases.js';
export * from './turn-writes.js';
