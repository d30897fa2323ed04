// Package ui serves Clew's web UI: a Preact and TypeScript app in this
// directory, built by Vite into dist/ and embedded in the binary, so that
// `go build` needs no Node.js and `clew serve` shows the real UI.
//
// dist/ is committed. scripts/test.sh rebuilds it with `npm ci && npm run
// build` and fails when the result differs from the committed files, so the
// bundle cannot drift from its sources. See README.md here for working on
// the UI with Vite's dev server.
package ui

import (
	"bytes"
	"embed"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

// NB: "all:" also embeds files whose names start with "_" or ".", which
// Vite may emit for some chunks.
//
//go:embed all:dist
var dist embed.FS

// ContentSecurityPolicy is sent with every UI response. Span data is
// attacker-controlled; the app renders it only as text, and this policy is
// the second line: no inline or foreign scripts, no inline styles (styles
// are set through the CSSOM, which the policy does not restrict), images
// only from the server or data: URIs, and no framing.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Patterns are the http.ServeMux patterns the UI answers: the app's routes,
// which all serve index.html, and its static files. None of them overlaps
// /api/, /metrics, /healthz, /readyz or /debug/pprof/.
var Patterns = []string{
	"GET /{$}",
	"GET /search",
	"GET /services",
	"GET /trace/",
	"GET /compare/",
	"GET /assets/",
	"GET /favicon.svg",
}

// Handler returns the UI's handler. It is safe for concurrent use.
func Handler() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic("BUG: ui: embedded dist missing: " + err.Error())
	}
	return newHandler(sub)
}

// placeholder is served when dist holds no index.html (a checkout whose
// build was deleted): the APIs still work.
const placeholder = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Clew</title></head>` +
	`<body><h1>Clew</h1><p>The web UI is not built. Run <code>npm ci &amp;&amp; npm run build</code> in ui/.` +
	` The APIs are under <a href="/api/services">/api/</a>.</p></body></html>`

type handler struct {
	files http.Handler
	index []byte
}

func newHandler(fsys fs.FS) *handler {
	index, err := fs.ReadFile(fsys, "index.html")
	if err != nil {
		index = []byte(placeholder)
	}
	return &handler{files: http.FileServerFS(fsys), index: index}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", ContentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Frame-Options", "DENY")
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/assets/"):
		// Names carry a content hash: cache them for good.
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.files.ServeHTTP(w, r)
	case p == "/favicon.svg":
		hd.Set("Cache-Control", "public, max-age=3600")
		h.files.ServeHTTP(w, r)
	default:
		// An app route: the app reads the rest of the URL itself.
		hd.Set("Cache-Control", "no-cache")
		hd.Set("Content-Type", "text/html; charset=utf-8")
		http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(h.index))
	}
}
