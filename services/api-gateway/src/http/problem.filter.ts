/**
 * The one place where errors become HTTP answers: every error, from a guard, a pipe, a handler, a
 * remote service (DomainError) or Fastify itself (bad JSON, wrong media type, body too large),
 * is answered as RFC 9457 problem+json. Unexpected errors are logged once and answered 500
 * without details.
 */
import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { throwError } from 'rxjs';
import { DomainError } from '@parley/bus';
import { logger } from '@parley/observability';
import { RateLimitedError } from '../rate-limit/rate-limit.js';
import { PROBLEM_CONTENT_TYPE, problemFromCode, problemFromStatus, type Problem } from './problem.js';

const STATUS_TITLES: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  411: 'Length Required',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
};

/** Fastify's own request errors carry a 4xx `statusCode` and a `FST_…` code. */
function fastifyClientError(error: unknown): { statusCode: number; code?: string } | null {
  const candidate = error as { statusCode?: unknown; code?: unknown };
  if (typeof candidate?.statusCode !== 'number' || candidate.statusCode < 400 || candidate.statusCode > 499)
    return null;
  return {
    statusCode: candidate.statusCode,
    code: typeof candidate.code === 'string' ? candidate.code : undefined,
  };
}

export function toProblem(error: unknown, instance: string): Problem {
  if (error instanceof DomainError) {
    return problemFromCode(error.code, error.message, instance, {
      field: error.field,
      errors: error.details,
    });
  }
  const status = error instanceof HttpException ? error.getStatus() : fastifyClientError(error)?.statusCode;
  if (status === 404) return problemFromCode('not-found', `no route ${instance}`, instance);
  if (status === 400) {
    const code = fastifyClientError(error)?.code;
    const detail =
      code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
        ? 'the request says it has a JSON body but it is empty'
        : 'the request body is not valid JSON';
    return problemFromCode('validation-failed', detail, instance, { field: 'body' });
  }
  if (status === 415) {
    return problemFromStatus(415, STATUS_TITLES[415]!, 'send the body as application/json', instance);
  }
  if (status === 413) {
    return problemFromStatus(413, STATUS_TITLES[413]!, 'the request body is too large', instance);
  }
  if (status !== undefined && status >= 400 && status < 500) {
    return problemFromStatus(
      status,
      STATUS_TITLES[status] ?? 'Client Error',
      'the request was not accepted',
      instance,
    );
  }
  return problemFromCode('internal', 'an internal error occurred; it has been logged', instance);
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  catch(error: unknown, host: ArgumentsHost) {
    // The gateway's only bus handler (ping) never throws; anything else is not ours to shape.
    if (host.getType() !== 'http') return throwError(() => error);
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const instance = request.url.split('?')[0] ?? request.url;
    const problem = toProblem(error, instance);
    if (problem.status >= 500) {
      logger().error({ err: error, method: request.method, path: instance }, 'request failed');
    }
    if (problem.status === 401) void reply.header('WWW-Authenticate', 'Bearer');
    if (error instanceof RateLimitedError) void reply.header('Retry-After', String(error.retryAfterSeconds));
    void reply.status(problem.status).header('Content-Type', PROBLEM_CONTENT_TYPE).send(problem);
  }
}
