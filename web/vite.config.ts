import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const backend = 'http://127.0.0.1:3000';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // Preact's automatic JSX runtime (the root tsconfig says the same; this makes it explicit for oxc).
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // Modern browsers only: no inline or injected polyfill (CSP is default-src 'self').
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: {
      '/api': backend,
      '/config.json': backend,
      '/_local': backend,
    },
  },
});
