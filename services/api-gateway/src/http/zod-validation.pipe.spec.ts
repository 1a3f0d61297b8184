import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DomainError } from '@parley/bus';
import { ZodValidationPipe } from './zod-validation.pipe.js';

const body = z.strictObject({
  email: z.email(),
  participants: z.array(z.strictObject({ network: z.enum(['xmpp', 'irc']), address: z.string() })),
});

function refusal(value: unknown): DomainError {
  try {
    new ZodValidationPipe(body, 'body').transform(value);
  } catch (error) {
    return error as DomainError;
  }
  throw new Error('expected a refusal');
}

describe('ZodValidationPipe', () => {
  it('passes a valid value through, parsed', () => {
    const value = { email: 'a@example.org', participants: [] };
    expect(new ZodValidationPipe(body, 'body').transform(value)).toEqual(value);
  });

  it('names a nested field as a JSON path', () => {
    const error = refusal({ email: 'a@example.org', participants: [{ network: 'msn', address: 'x' }] });
    expect(error).toBeInstanceOf(DomainError);
    expect(error.code).toBe('validation-failed');
    expect(error.field).toBe('participants.0.network');
  });

  it('names each unknown field, also inside arrays', () => {
    const error = refusal({
      email: 'a@example.org',
      admin: true,
      participants: [{ network: 'irc', address: 'x', note: 1 }],
    });
    expect(error.details?.map((d) => d.field).sort()).toEqual(['admin', 'participants.0.note']);
    expect(error.details?.find((d) => d.field === 'admin')?.message).toBe('unknown field "admin"');
  });

  it('says the body must be an object when it is not one', () => {
    expect(refusal([1, 2]).field).toBe('body');
    expect(refusal(undefined).message).toBe('body: the request body must be a JSON object');
  });

  it('prefixes a path parameter with its name', () => {
    expect(() => new ZodValidationPipe(z.uuid(), 'path', 'id').transform('42')).toThrow(
      expect.objectContaining({ field: 'id' }),
    );
  });
});
