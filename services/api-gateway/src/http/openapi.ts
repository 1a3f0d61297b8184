/**
 * Generates the OpenAPI 3.1 document from the code: routes from Nest's own metadata, inputs and
 * outputs from the zod schemas the endpoints validate with (`@ValidBody`, `@Endpoint`, …), security
 * from `@Public()`. Served at /docs and checked in as docs/openapi.json (a test fails on drift).
 */
import { RequestMethod, type Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { z } from 'zod';
import type { ErrorCode } from '@parley/contracts';
import { IS_PUBLIC } from '../auth/public.decorator.js';
import {
  ENDPOINT_METADATA,
  INPUT_METADATA,
  type EndpointInput,
  type EndpointOptions,
} from './endpoint.decorators.js';
import { problemSchema, STATUS_OF } from './problem.js';

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  });
  return rest;
}

const PROBLEM_REF = { $ref: '#/components/schemas/Problem' };

function errorResponse(code: ErrorCode) {
  return {
    description: `${code} (type urn:parley:problem:${code})`,
    content: { 'application/problem+json': { schema: PROBLEM_REF } },
    ...(code === 'rate-limited'
      ? {
          headers: {
            'Retry-After': { description: 'seconds to wait', schema: { type: 'integer', minimum: 1 } },
          },
        }
      : {}),
  };
}

function joinPath(...parts: string[]): string {
  const path = parts
    .flatMap((p) => p.split('/'))
    .filter(Boolean)
    .map((segment) => (segment.startsWith(':') ? `{${segment.slice(1)}}` : segment))
    .join('/');
  return `/${path}`;
}

function operationId(controller: Type<unknown>, method: string): string {
  const base = controller.name.replace(/Controller$/, '');
  return `${base.charAt(0).toLowerCase()}${base.slice(1)}${method.charAt(0).toUpperCase()}${method.slice(1)}`;
}

/** The controllers a feature module declares (Nest keeps them as module metadata). */
export function controllersOf(modules: Array<Type<unknown>>): Array<Type<unknown>> {
  return modules.flatMap(
    (module) => (Reflect.getMetadata('controllers', module) as Array<Type<unknown>>) ?? [],
  );
}

export function buildOpenApiDocument(modules: Array<Type<unknown>>) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const controller of controllersOf(modules)) {
    const controllerPath: string = Reflect.getMetadata(PATH_METADATA, controller) ?? '';
    const proto = controller.prototype as Record<string, (...args: unknown[]) => unknown>;
    for (const name of Object.getOwnPropertyNames(proto)) {
      const handler = proto[name]!;
      const verb: RequestMethod | undefined =
        name === 'constructor' ? undefined : Reflect.getMetadata(METHOD_METADATA, handler);
      if (verb === undefined) continue;
      const endpoint: EndpointOptions | undefined = Reflect.getMetadata(ENDPOINT_METADATA, handler);
      if (!endpoint)
        throw new Error(`${controller.name}.${name} has no @Endpoint(): every route is documented`);
      const inputs: EndpointInput[] = Reflect.getMetadata(INPUT_METADATA, handler) ?? [];
      const isPublic = Boolean(
        Reflect.getMetadata(IS_PUBLIC, handler) ?? Reflect.getMetadata(IS_PUBLIC, controller),
      );
      const path = joinPath(controllerPath, Reflect.getMetadata(PATH_METADATA, handler) ?? '');

      const body = inputs.find((i) => i.location === 'body');
      const parameters = inputs
        .filter((i) => i.location !== 'body')
        .flatMap((input) => {
          if (input.location === 'path') {
            return [
              { name: input.name!, in: 'path', required: true, schema: jsonSchema(input.schema, 'input') },
            ];
          }
          if (input.location === 'header') {
            const { description, ...schema } = jsonSchema(input.schema, 'input');
            return [
              {
                name: input.name!,
                in: 'header',
                required: !input.schema.safeParse(undefined).success,
                ...(description ? { description } : {}),
                schema,
              },
            ];
          }
          const query = jsonSchema(input.schema, 'input') as {
            properties?: Record<string, JsonSchema>;
            required?: string[];
          };
          return Object.entries(query.properties ?? {}).map(([param, schema]) => ({
            name: param,
            in: 'query',
            required: query.required?.includes(param) ?? false,
            schema,
          }));
        });

      const codes = new Set<ErrorCode>();
      if (inputs.length > 0) codes.add('validation-failed');
      if (!isPublic) codes.add('unauthorized');
      for (const code of endpoint.errors ?? []) codes.add(code);
      codes.add('internal');
      const responses: Record<string, unknown> = {
        [endpoint.status]: endpoint.response
          ? {
              description: endpoint.summary,
              content: {
                [endpoint.mediaType ?? 'application/json']: {
                  schema: jsonSchema(endpoint.response, 'output'),
                },
              },
            }
          : { description: 'done; no content' },
      };
      for (const code of [...codes].sort((a, b) => STATUS_OF[a] - STATUS_OF[b])) {
        responses[String(STATUS_OF[code])] = errorResponse(code);
      }

      paths[path] ??= {};
      paths[path][RequestMethod[verb].toLowerCase()] = {
        operationId: operationId(controller, name),
        tags: [endpoint.tag],
        summary: endpoint.summary,
        ...(endpoint.description ? { description: endpoint.description } : {}),
        ...(parameters.length > 0 ? { parameters } : {}),
        ...(body
          ? {
              requestBody: {
                required: true,
                content: { 'application/json': { schema: jsonSchema(body.schema, 'input') } },
              },
            }
          : {}),
        responses,
        security: isPublic ? [] : [{ bearerAuth: [] }],
      };
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Parley API',
      version: '1.0.0',
      description:
        'REST API for conference owners. Errors are RFC 9457 application/problem+json; unknown JSON fields are rejected. See docs/api.md.',
    },
    servers: [{ url: '/' }],
    tags: [
      { name: 'auth', description: 'registration, e-mail confirmation, login' },
      { name: 'me', description: 'my account' },
      { name: 'im-accounts', description: 'my IM network accounts (passwords are write-only)' },
      { name: 'conferences', description: 'my conferences and their lifecycle' },
      { name: 'participants', description: 'who is invited to a conference, and their state' },
      { name: 'history', description: 'the archive of a conference: read, search, export' },
      { name: 'live feed', description: 'a conference as it happens (server-sent events)' },
      { name: 'contacts', description: 'my saved contacts and the imports that fill them' },
    ],
    paths,
    components: {
      schemas: { Problem: jsonSchema(problemSchema, 'output') },
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'the accessToken from POST /api/v1/auth/login',
        },
      },
    },
  };
}

export type OpenApiDocument = ReturnType<typeof buildOpenApiDocument>;
