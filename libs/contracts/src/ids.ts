/** Message ids: UUIDv7 (time-ordered), per the conventions. */
import { randomBytes } from 'node:crypto';

/** RFC 9562 UUIDv7: 48-bit ms timestamp, version, 74 random bits. */
export function uuidv7(now = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The envelope fields of a new message. */
export function newEnvelope(now = new Date()): { id: string; occurredAt: string } {
  return { id: uuidv7(now.getTime()), occurredAt: now.toISOString() };
}
