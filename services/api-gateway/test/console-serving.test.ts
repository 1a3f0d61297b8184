/**
 * api-gateway serves the owner console (the build of apps/console) at `/`: its pages answer
 * index.html (client-side routes), its hashed assets are cached for good, and the API, the docs and
 * the probes keep their own answers. Needs the console built (`npx turbo run build`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from './support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.close();
});

describe('the owner console', () => {
  it('answers its pages with the app, same-origin only', async () => {
    for (const page of ['/', '/login', '/confirm?token=abc', '/conferences/team-sync-k4q7/archive']) {
      const answer = await stack.request('GET', page);
      expect(answer.status, page).toBe(200);
      expect(answer.headers.get('content-type'), page).toContain('text/html');
      expect(String(answer.body), page).toContain('<div id="root"></div>');
      expect(answer.headers.get('content-security-policy'), page).toContain("default-src 'self'");
    }
  });

  it('serves the scripts the page loads, cached for good', async () => {
    const html = String((await stack.request('GET', '/')).body);
    const script = /<script type="module" crossorigin src="([^"]+)"/.exec(html)?.[1];
    expect(script).toMatch(/^\/assets\/index-[\w-]+\.js$/);
    const answer = await stack.request('GET', script!);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toContain('javascript');
    expect(answer.headers.get('cache-control')).toContain('immutable');
  });

  it('shadows nothing: the API, the docs and the probes answer as before, unknown paths are problems', async () => {
    const unknownApi = await stack.request('GET', '/api/v1/nothing-here');
    expect(unknownApi.status).toBe(404);
    expect(unknownApi.headers.get('content-type')).toContain('application/problem+json');
    expect((await stack.request('GET', '/api/v1/conferences')).status).toBe(401);
    expect((await stack.request('GET', '/health/live')).status).toBe(200);
    expect(String((await stack.request('GET', '/docs')).body)).toContain('swagger-ui');
    const unknownPage = await stack.request('GET', '/no-such-page');
    expect(unknownPage.status).toBe(404);
    expect(unknownPage.headers.get('content-type')).toContain('application/problem+json');
  });
});
