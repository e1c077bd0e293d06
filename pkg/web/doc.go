// Package web serves cuttle's browser interface: the Svelte single-page app
// built from web/ by Vite and embedded here with go:embed, so building the
// daemon needs no Node.js.
//
// The Handler answers GET and HEAD only. Files Vite names by content hash
// (everything under assets/) are cached for a year as immutable; index.html
// is revalidated on every load (no-cache, with an ETag), so a new build is
// picked up at once. Any path that names no file and has no file extension is
// a client route (/files, /settings, ...) and gets index.html. Compressible
// files are gzipped once when the Handler is built and sent compressed to
// clients that accept gzip.
//
// The API routes (/api, /plugin, /sockjs, /downloads, /online.txt) are not
// this package's business: the router mounts this Handler for everything
// else.
//
// The bundle in dist/ is committed. Rebuild it with `npm ci && npm run build`
// in web/; scripts/test-web fails when the committed bundle differs from a
// fresh build.
package web
