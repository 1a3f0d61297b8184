/**
 * RFC 9457 problem details: the one shape of every HTTP error, with a stable `type` per error code
 * (the codes of @parley/contracts) and the request field that was wrong. Never a stack trace.
 */
import { z } from 'zod';
import type { ErrorCode } from '@parley/contracts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Stable problem type URIs; documented in docs/api.md. */
export const problemType = (code: ErrorCode) => `urn:parley:problem:${code}`;

export const STATUS_OF: Record<ErrorCode, number> = {
  'validation-failed': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'rate-limited': 429,
  internal: 500,
  unavailable: 503,
};

const TITLE_OF: Record<ErrorCode, string> = {
  'validation-failed': 'The request is not valid',
  unauthorized: 'Authentication is required',
  forbidden: 'Not allowed',
  'not-found': 'Not found',
  conflict: 'Conflict',
  'rate-limited': 'Too many requests',
  internal: 'Internal error',
  unavailable: 'Service unavailable',
};

export const problemSchema = z.object({
  type: z.string().describe('stable URI of the kind of problem, e.g. urn:parley:problem:validation-failed'),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  instance: z.string().describe('the request path'),
  field: z
    .string()
    .optional()
    .describe('the request field that was wrong, as a JSON path (`participants.2.address`)'),
  errors: z
    .array(z.object({ field: z.string(), message: z.string() }))
    .optional()
    .describe('every invalid field, when there are several'),
});
export type Problem = z.infer<typeof problemSchema>;

export function problemFromCode(
  code: ErrorCode,
  detail: string,
  instance: string,
  extra: { field?: string; errors?: Array<{ field: string; message: string }> } = {},
): Problem {
  return {
    type: problemType(code),
    title: TITLE_OF[code],
    status: STATUS_OF[code],
    detail,
    instance,
    ...(extra.field ? { field: extra.field } : {}),
    ...(extra.errors && extra.errors.length > 0 ? { errors: extra.errors } : {}),
  };
}

/** Errors of HTTP itself (unsupported media type, body too large, …): `about:blank`, per RFC 9457 §4.2.1. */
export function problemFromStatus(status: number, title: string, detail: string, instance: string): Problem {
  return { type: 'about:blank', title, status, detail, instance };
}
