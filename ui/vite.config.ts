import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

// The build must be deterministic: scripts/test.sh rebuilds ui/dist and
// fails when it differs from the committed bundle. Content hashes come
// from the sources alone, no timestamps or absolute paths end up in the
// output, and nothing is inlined as a data: URI or an inline script
// (the server's Content-Security-Policy forbids inline scripts and styles).
export default defineConfig({
  plugins: [preact({ prerender: { enabled: false }, devToolsEnabled: false, prefreshEnabled: true })],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    sourcemap: false,
    target: 'es2022',
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1000,
  },
  // `npm run dev` serves the UI with hot reload on :5173 and sends the API
  // calls to a Clew running on the default HTTP port.
  server: {
    port: 5173,
    proxy: {
      '/api': 'http://localhost:16686',
    },
  },
});
