// Builds the console to dist/ (static files api-gateway serves at /). `npm run dev -w @parley/console`
// serves it with hot reload and proxies the API to a gateway on PARLEY_GATEWAY_URL (default :8080).
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const gateway = process.env.PARLEY_GATEWAY_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: { proxy: { '/api': { target: gateway, changeOrigin: false } } },
});
