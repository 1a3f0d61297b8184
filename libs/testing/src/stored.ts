/**
 * What a JetStream stream holds on a subject (wildcards allowed), read with a throwaway consumer:
 * for tests that check what a service published.
 */
import type { JetStreamBus } from '@parley/bus';

/** How many messages `stream` holds on `subject` (summed over the subjects a wildcard matches). */
export async function storedCount(bus: JetStreamBus, stream: string, subject: string): Promise<number> {
  const info = await bus.jsm.streams.info(stream, { subjects_filter: subject });
  return Object.values(info.state.subjects ?? {}).reduce((n, count) => n + count, 0);
}

/** Every message `stream` holds on `subject`, in stream order, each through `parse`. */
export async function readStored<T>(
  bus: JetStreamBus,
  stream: string,
  subject: string,
  parse: (value: unknown) => T,
): Promise<T[]> {
  const consumer = await bus.js.consumers.get(stream, { filter_subjects: subject });
  const expected = await storedCount(bus, stream, subject);
  const out: T[] = [];
  try {
    while (out.length < expected) {
      const batch = await consumer.fetch({ max_messages: expected - out.length, expires: 2_000 });
      for await (const m of batch) out.push(parse(m.json()));
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
  return out;
}
