import { NotFoundException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { DomainError } from '@parley/bus';
import { toProblem } from './problem.filter.js';

describe('toProblem', () => {
  it('maps a domain error to its stable type, status and field', () => {
    expect(toProblem(new DomainError('conflict', 'taken', 'email'), '/api/v1/auth/register')).toEqual({
      type: 'urn:parley:problem:conflict',
      title: 'Conflict',
      status: 409,
      detail: 'taken',
      instance: '/api/v1/auth/register',
      field: 'email',
    });
  });

  it('answers an unexpected error with 500 and nothing of the error itself', () => {
    const problem = toProblem(new Error('password=hunter2 at db.ts:12'), '/api/v1/me');
    expect(problem).toMatchObject({ type: 'urn:parley:problem:internal', status: 500 });
    expect(JSON.stringify(problem)).not.toContain('hunter2');
  });

  it("maps Fastify's request errors and Nest's unknown route", () => {
    expect(toProblem({ statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }, '/x')).toMatchObject({
      type: 'about:blank',
      status: 415,
    });
    expect(toProblem({ statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY' }, '/x')).toMatchObject({
      type: 'urn:parley:problem:validation-failed',
      field: 'body',
    });
    expect(toProblem(new NotFoundException(), '/x')).toMatchObject({
      type: 'urn:parley:problem:not-found',
      status: 404,
    });
  });
});
