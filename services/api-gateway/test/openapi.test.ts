/**
 * The OpenAPI document: generated from the code, valid (checked by an OpenAPI validator), listing
 * every owner endpoint with its request and response schemas, served at /docs, and identical to
 * the checked-in docs/openapi.json (regenerate with `npm run openapi -w @parley/api-gateway`).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compileErrors, validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiModules } from '../src/api-modules.js';
import { buildOpenApiDocument } from '../src/http/openapi.js';
import { startStack, type Stack } from './support/stack.js';

const CHECKED_IN = fileURLToPath(new URL('../../../docs/openapi.json', import.meta.url));

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- walking a JSON document
type Json = any;

/** The owner endpoints of PRODUCT.md's table built so far: [method, path, has a request body]. */
const EXPECTED: Array<[string, string, boolean]> = [
  ['post', '/api/v1/auth/register', true],
  ['post', '/api/v1/auth/confirm', true],
  ['post', '/api/v1/auth/login', true],
  ['post', '/api/v1/auth/resend-confirmation', true],
  ['get', '/api/v1/me', false],
  ['patch', '/api/v1/me', true],
  ['delete', '/api/v1/me', false],
  ['post', '/api/v1/me/password', true],
  ['get', '/api/v1/im-accounts', false],
  ['post', '/api/v1/im-accounts', true],
  ['get', '/api/v1/im-accounts/{id}', false],
  ['delete', '/api/v1/im-accounts/{id}', false],
  ['get', '/api/v1/conferences', false],
  ['post', '/api/v1/conferences', true],
  ['get', '/api/v1/conferences/{id}', false],
  ['patch', '/api/v1/conferences/{id}', true],
  ['post', '/api/v1/conferences/{id}/start', false],
  ['post', '/api/v1/conferences/{id}/close', false],
  ['get', '/api/v1/conferences/{id}/participants', false],
  ['post', '/api/v1/conferences/{id}/participants', true],
  ['delete', '/api/v1/conferences/{id}/participants/{participantId}', false],
  ['post', '/api/v1/conferences/{id}/participants/clean', false],
  ['get', '/api/v1/conferences/{id}/history', false],
  ['get', '/api/v1/conferences/{id}/history/export', false],
  ['get', '/api/v1/conferences/{id}/events', false],
  ['post', '/api/v1/im-accounts/{id}/imports', false],
  ['get', '/api/v1/imports/{id}', false],
  ['get', '/api/v1/imports/{id}/events', false],
  ['get', '/api/v1/contacts', false],
];

/** Endpoints whose success body is not JSON: [method, path, media type]; the schema describes one line. */
const STREAMED: Array<[string, string, string]> = [
  ['get', '/api/v1/conferences/{id}/history/export', 'application/x-ndjson'],
  ['get', '/api/v1/conferences/{id}/events', 'text/event-stream'],
  ['get', '/api/v1/imports/{id}/events', 'text/event-stream'],
];

let stack: Stack;
let served: Json;

beforeAll(async () => {
  stack = await startStack();
  const answer = await stack.request('GET', '/docs/json');
  expect(answer.status).toBe(200);
  served = answer.body;
});

afterAll(async () => {
  await stack?.close();
});

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await validate(structuredClone(served));
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
    expect(served.openapi).toBe('3.1.0');
  });

  it('lists exactly the endpoints of the code, each with its request and response schemas', () => {
    const operations = Object.entries(served.paths as Json).flatMap(([path, item]) =>
      Object.keys(item as Json).map((method) => `${method} ${path}`),
    );
    expect(operations.sort()).toEqual(EXPECTED.map(([m, p]) => `${m} ${p}`).sort());
    for (const [method, path, hasBody] of EXPECTED) {
      const op = served.paths[path][method];
      if (hasBody) {
        const schema = op.requestBody?.content?.['application/json']?.schema;
        expect(schema, `${method} ${path} request`).toMatchObject({
          type: 'object',
          additionalProperties: false,
        });
        expect(Object.keys(schema.properties).length, `${method} ${path} request fields`).toBeGreaterThan(0);
      }
      const success = Object.entries(op.responses as Json).filter(([status]) => status.startsWith('2'));
      expect(success, `${method} ${path} success`).toHaveLength(1);
      const [status, response] = success[0] as [string, Json];
      const streamed = STREAMED.find(([m, p]) => m === method && p === path);
      if (streamed) {
        expect(Object.keys(response.content), `${method} ${path} media type`).toEqual([streamed[2]]);
        expect(response.content[streamed[2]].schema.oneOf.length, `${method} ${path} line`).toBeGreaterThan(
          0,
        );
      } else if (status !== '204')
        expect(response.content['application/json'].schema.type, `${method} ${path} response`).toBe('object');
      const problems = Object.entries(op.responses as Json).filter(([s]) => !s.startsWith('2'));
      expect(problems.length, `${method} ${path} errors`).toBeGreaterThan(0);
      for (const [, problem] of problems) {
        expect((problem as Json).content['application/problem+json'].schema).toEqual({
          $ref: '#/components/schemas/Problem',
        });
      }
    }
  });

  it('requires the bearer token everywhere but auth/*, and never shows an IM password', () => {
    for (const [method, path] of EXPECTED) {
      const op = served.paths[path][method];
      expect(op.security, `${method} ${path}`).toEqual(
        path.startsWith('/api/v1/auth/') ? [] : [{ bearerAuth: [] }],
      );
      if (!path.startsWith('/api/v1/auth/')) expect(op.responses['401']).toBeDefined();
    }
    const imAccount =
      served.paths['/api/v1/im-accounts'].post.responses['201'].content['application/json'].schema;
    expect(Object.keys(imAccount.properties).sort()).toEqual(['address', 'createdAt', 'id', 'network']);
    expect(served.paths['/api/v1/auth/login'].post.responses['429'].headers['Retry-After']).toBeDefined();
  });

  it('is what the code generates, and the checked-in docs/openapi.json has not drifted', () => {
    const generated = buildOpenApiDocument(apiModules);
    expect(served).toEqual(JSON.parse(JSON.stringify(generated)));
    const checkedIn = JSON.parse(readFileSync(CHECKED_IN, 'utf8'));
    expect(checkedIn, 'docs/openapi.json is stale: run `npm run openapi -w @parley/api-gateway`').toEqual(
      served,
    );
  });

  it('documents the live feed’s resume header', () => {
    const feed = served.paths['/api/v1/conferences/{id}/events'].get;
    expect(feed.parameters).toContainEqual(
      expect.objectContaining({ name: 'Last-Event-ID', in: 'header', required: false }),
    );
  });

  it('serves Swagger UI at /docs', async () => {
    const answer = await stack.request('GET', '/docs');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toContain('text/html');
    expect(String(answer.body)).toContain('swagger-ui');
  });
});
