/** Serves the generated OpenAPI document: Swagger UI at /docs, the JSON at /docs/json. */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { apiModules } from '../api-modules.js';
import { buildOpenApiDocument } from './openapi.js';

export function serveOpenApi(app: NestFastifyApplication): void {
  const document = buildOpenApiDocument(apiModules) as unknown as OpenAPIObject;
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs/json',
    yamlDocumentUrl: 'docs/yaml',
    customSiteTitle: 'Parley API',
  });
}
