/** @parley/runtime — configuration, health/metrics endpoints and the bootstrap every service shares. */
export * from './config.js';
export * from './health.js';
export * from './nest-logger.js';
export * from './bootstrap.js';
export * from './platform.js';
