/** @parley/contracts — the only place subjects, streams and bus message schemas are defined. */
export * from './namespace.js';
export * from './networks.js';
export * from './envelope.js';
export * from './messages.v1.js';
export * from './messages.v2.js';
export * from './streams.js';
export * from './rpc.js';
export * from './ids.js';
export * from './accounts.v1.js';
export * from './conferences.v1.js';
export * from './archive.v1.js';
export * from './presence.v1.js';
export * from './owners.v1.js';
export * from './permissions.js';
export * from './contacts.v1.js';
