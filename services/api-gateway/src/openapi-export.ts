/**
 * `node services/api-gateway/dist/openapi-export.js [file]`: writes the OpenAPI document generated
 * from the code (default: docs/openapi.json at the repository root). Run after changing an endpoint;
 * test/openapi.test.ts fails while the checked-in file differs.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { apiModules } from './api-modules.js';
import { buildOpenApiDocument } from './http/openapi.js';

export const OPENAPI_FILE = fileURLToPath(new URL('../../../docs/openapi.json', import.meta.url));

const target = process.argv[2] ?? OPENAPI_FILE;
writeFileSync(target, `${JSON.stringify(buildOpenApiDocument(apiModules), null, 2)}\n`);
process.stdout.write(`OpenAPI document written to ${target}\n`);
