import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The dev server proxies the API to a running cuttle (CUTTLE_URL, default
// http://127.0.0.1:5000), so `npm run dev` works against a real printer host.
const backend = process.env.CUTTLE_URL ?? 'http://127.0.0.1:5000';

export default defineConfig({
  plugins: [svelte()],
  base: '/',
  build: {
    outDir: '../pkg/web/dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    target: 'es2020',
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  server: {
    proxy: {
      '/api': backend,
      '/plugin': backend,
      '/downloads': backend,
      '/sockjs': { target: backend, ws: true },
    },
  },
});
