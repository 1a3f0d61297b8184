/**
 * @parley/runtime — configuration, health/metrics endpoints and the bootstrap every service shares,
 * and the bounded in-process memories (recent ids, last values) several services keep.
 */
export * from './config.js';
export * from './health.js';
export * from './nest-logger.js';
export * from './bootstrap.js';
export * from './platform.js';
export * from './bounded.js';
