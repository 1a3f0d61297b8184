/**
 * Serves the owner console (the static build of apps/console) at `/`: its files as they are, and
 * index.html for each of its client-side pages (the SPA fallback). Only those pages and files are
 * routed, so /api, /docs, /health and /metrics keep their own answers and an unknown path is still
 * a problem+json 404. Static files are public; everything they do goes through the authenticated API.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { logger } from '@parley/observability';

/** The console's own pages (apps/console/src/App.tsx): each answers index.html. */
export const CONSOLE_PAGES = [
  '/',
  '/register',
  '/confirm',
  '/login',
  '/account',
  '/im-accounts',
  '/contacts',
  '/conferences',
  '/conferences/:id',
  '/conferences/:id/archive',
];

/** Same-origin only: the console loads nothing from elsewhere and may not be framed. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' data:",
  "style-src 'self'",
  "script-src 'self'",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

export async function serveConsole(app: NestFastifyApplication, dir: string): Promise<void> {
  const indexFile = path.join(dir, 'index.html');
  if (!existsSync(indexFile)) {
    logger().warn(
      { dir },
      'the owner console is not built (npm run build -w @parley/console); / is not served',
    );
    return;
  }
  const index = readFileSync(indexFile, 'utf8');
  const fastify = app.getHttpAdapter().getInstance();
  await fastify.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    // One route per file that exists at start-up (no catch-all that would shadow the API).
    wildcard: false,
    index: false,
    decorateReply: false,
    setHeaders(res, file) {
      // Vite names assets by content hash: they never change under the same name.
      const immutable = file.includes(`${path.sep}assets${path.sep}`);
      void res.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
      if (file.endsWith('.html')) void res.header('content-security-policy', CONTENT_SECURITY_POLICY);
    },
  });
  for (const page of CONSOLE_PAGES) {
    fastify.get(page, (_request, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-cache')
        .header('content-security-policy', CONTENT_SECURITY_POLICY)
        .header('x-content-type-options', 'nosniff')
        .send(index),
    );
  }
}
