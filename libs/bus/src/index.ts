/** @parley/bus — JetStream publishing and durable consumers, typed RPC, and the Nest module. */
export * from './jetstream-bus.js';
export * from './durable-consumer.js';
export * from './rpc.js';
export * from './bus.module.js';
