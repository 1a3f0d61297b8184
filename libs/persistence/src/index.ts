/** @parley/persistence — per-service TypeORM DataSources, migrations, naming. */
export * from './naming-strategy.js';
export * from './data-source.js';
export * from './persistence.module.js';
export * from './inbox.js';
export * from './statements.js';
export * from './bulk.js';
export * from './prepared.js';
