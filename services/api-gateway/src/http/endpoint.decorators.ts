/**
 * How a REST endpoint declares itself: one decorator per input (validated by its zod schema) and
 * one for the outcome. The same metadata drives validation and the generated OpenAPI document, so
 * the document cannot drift from what the code accepts.
 */
import {
  Body,
  Controller,
  createParamDecorator,
  HttpCode,
  Param,
  Query,
  applyDecorators,
  SetMetadata,
  type ExecutionContext,
} from '@nestjs/common';
import type { z } from 'zod';
import type { ErrorCode } from '@parley/contracts';
import { ZodValidationPipe } from './zod-validation.pipe.js';

/** Every REST route lives under this prefix (health and metrics stay at the root). */
export const API_PREFIX = 'api/v1';

/** A REST controller under /api/v1. */
export const ApiController = (path: string): ClassDecorator => Controller(`${API_PREFIX}/${path}`);

export const ENDPOINT_METADATA = 'parley:endpoint';
export const INPUT_METADATA = 'parley:endpoint-inputs';

export interface EndpointOptions {
  /** One line for the OpenAPI summary. */
  summary: string;
  description?: string;
  /** The success status (201 for creations, 204 when there is no body). */
  status: 200 | 201 | 202 | 204;
  /** The success body; omitted for 204. */
  response?: z.ZodType;
  /** The success body's media type when it is not JSON (e.g. `application/x-ndjson`: `response` is one line). */
  mediaType?: string;
  /** Error codes this endpoint can answer beyond the common ones (validation, auth). */
  errors?: ErrorCode[];
  tag: string;
}

export interface EndpointInput {
  location: 'body' | 'query' | 'path' | 'header';
  schema: z.ZodType;
  name?: string;
}

export function Endpoint(options: EndpointOptions): MethodDecorator {
  return applyDecorators(HttpCode(options.status), SetMetadata(ENDPOINT_METADATA, options));
}

function recordInput(target: object, key: string | symbol | undefined, input: EndpointInput) {
  if (key === undefined) return;
  const method = (target as Record<string | symbol, object>)[key]!;
  const inputs: EndpointInput[] = Reflect.getMetadata(INPUT_METADATA, method) ?? [];
  Reflect.defineMetadata(INPUT_METADATA, [...inputs, input], method);
}

/** The JSON body, validated (strict schemas reject unknown fields). */
export function ValidBody(schema: z.ZodType): ParameterDecorator {
  return (target, key, index) => {
    recordInput(target, key, { location: 'body', schema });
    Body(new ZodValidationPipe(schema, 'body'))(target, key, index);
  };
}

/** The query string as an object, validated. */
export function ValidQuery(schema: z.ZodType): ParameterDecorator {
  return (target, key, index) => {
    recordInput(target, key, { location: 'query', schema });
    Query(new ZodValidationPipe(schema, 'query'))(target, key, index);
  };
}

/** One path parameter, validated. */
export function ValidParam(name: string, schema: z.ZodType): ParameterDecorator {
  return (target, key, index) => {
    recordInput(target, key, { location: 'path', schema, name });
    Param(name, new ZodValidationPipe(schema, 'path', name))(target, key, index);
  };
}

/** Nest's own @Headers() takes no pipes; this one does. */
const RequestHeader = createParamDecorator((name: string, context: ExecutionContext) => {
  const value = context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>().headers[name];
  return Array.isArray(value) ? value.join(',') : value;
});

/** One request header, validated (e.g. `Last-Event-ID`); documented as a header parameter. */
export function ValidHeader(name: string, schema: z.ZodType): ParameterDecorator {
  return (target, key, index) => {
    recordInput(target, key, { location: 'header', schema, name });
    RequestHeader(name.toLowerCase(), new ZodValidationPipe(schema, 'header', name))(target, key, index);
  };
}
