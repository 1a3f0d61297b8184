/**
 * HTTP set-up of the gateway that lives on the Fastify instance rather than in Nest modules; passed
 * to startService as `configure` (by main.ts and by the tests, so both serve the same thing).
 */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { CONFIG, type Config } from '../config.js';
import { serveConsole } from './console.setup.js';
import { serveOpenApi } from './openapi.setup.js';

export async function configureHttp(app: NestFastifyApplication): Promise<void> {
  // The API speaks JSON only: without this, Fastify would hand text/plain bodies to the handlers as
  // strings; removed, they are refused with 415 Unsupported Media Type.
  app.getHttpAdapter().getInstance().removeContentTypeParser('text/plain');
  serveOpenApi(app);
  await serveConsole(app, app.get<Config>(CONFIG).PARLEY_CONSOLE_DIR);
}
