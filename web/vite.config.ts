import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

// The browser app. Built into web/dist and served by the api role
// (src/platform/web.ts) under a strict Content-Security-Policy: every script
// and style is a file of ours, nothing inline, nothing from a CDN.
export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The polyfill would be an inline script; every browser we target has modulepreload.
    modulePreload: { polyfill: false },
    // Small files would otherwise be inlined as data: URLs; keep them as files.
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1024,
    // Parallel builds (several `npm start`s) make the timing report noise.
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
  server: {
    // `npx vite web` during development: the API runs on PORT (default 8080).
    proxy: { '/api': { target: 'http://127.0.0.1:8080', changeOrigin: false } },
  },
});
