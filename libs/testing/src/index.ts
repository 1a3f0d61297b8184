/** @parley/testing — real servers for tests: discovery, isolation, and real XMPP/IRC clients. */
export * from './env.js';
export * from './namespace.js';
export * from './wait.js';
export * from './xmpp.js';
export * from './irc.js';
export * from './docker.js';
export * from './services.js';
export * from './xmpp-component.js';
export * from './start-service.js';
export * from './service-process.js';
export * from './mailbox.js';
export * from './inbound.js';
export * from './stored.js';
