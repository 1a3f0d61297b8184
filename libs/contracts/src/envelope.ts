/** Fields every bus message carries, and the header names that travel beside it. */
import { z } from 'zod';

export const HEADERS = {
  /** Correlation id of the request or IM event that caused this message. */
  correlationId: 'Parley-Correlation-Id',
  /** Why a message was dead-lettered. */
  dlqReason: 'Parley-Dlq-Reason',
  /** Subject a dead-lettered message was originally published on. */
  dlqSubject: 'Parley-Dlq-Subject',
  /** JetStream's de-duplication header. */
  msgId: 'Nats-Msg-Id',
} as const;

export const envelopeSchema = z.object({
  id: z.string().min(1).max(200),
  occurredAt: z.iso.datetime({ offset: true }),
});
export type Envelope = z.infer<typeof envelopeSchema>;
