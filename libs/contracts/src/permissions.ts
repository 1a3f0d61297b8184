/** NATS permissions per service, derived from these contracts. */
export {};
