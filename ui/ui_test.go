package ui

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func get(t *testing.T, h http.Handler, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAppRoutesServeIndex(t *testing.T) {
	h := Handler()
	index, err := fs.ReadFile(dist, "dist/index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/", "/search?service=a", "/trace/4bf92f3577b34da6a3ce929d0e0e4736?view=flame", "/compare/a/b", "/services"} {
		r := get(t, h, p)
		if r.StatusCode != 200 {
			t.Fatalf("%s: status %d", p, r.StatusCode)
		}
		if got := body(t, r); got != string(index) {
			t.Errorf("%s: not index.html: %.80q", p, got)
		}
		if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q", p, csp)
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("%s: Content-Type %q", p, ct)
		}
	}
}

func TestAssets(t *testing.T) {
	h := Handler()
	index, _ := fs.ReadFile(dist, "dist/index.html")
	refs := regexp.MustCompile(`(?:src|href)="(/assets/[^"]+)"`).FindAllStringSubmatch(string(index), -1)
	if len(refs) < 2 {
		t.Fatalf("index.html references %d assets, want a script and a stylesheet", len(refs))
	}
	for _, m := range refs {
		r := get(t, h, m[1])
		if r.StatusCode != 200 {
			t.Errorf("%s: status %d", m[1], r.StatusCode)
		}
		if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("%s: Cache-Control %q", m[1], cc)
		}
	}
	if r := get(t, h, "/assets/missing.js"); r.StatusCode != 404 {
		t.Errorf("missing asset: status %d", r.StatusCode)
	}
	if r := get(t, h, "/favicon.svg"); r.StatusCode != 200 {
		t.Errorf("favicon: status %d", r.StatusCode)
	}
}

// TestIndexIsCSPClean checks that the built index.html needs nothing the
// Content-Security-Policy forbids: no inline script, no inline style, no
// resource from another origin.
func TestIndexIsCSPClean(t *testing.T) {
	index, err := fs.ReadFile(dist, "dist/index.html")
	if err != nil {
		t.Fatal(err)
	}
	s := string(index)
	for _, m := range regexp.MustCompile(`(?s)<script([^>]*)>(.*?)</script>`).FindAllStringSubmatch(s, -1) {
		if !strings.Contains(m[1], "src=") || strings.TrimSpace(m[2]) != "" {
			t.Errorf("inline script in index.html: %q", m[0])
		}
	}
	for _, bad := range []string{"<style", " style=", "http://", "https://", "//fonts.", " on"} {
		if bad == " on" {
			if regexp.MustCompile(`\son[a-z]+=`).MatchString(s) {
				t.Errorf("inline event handler in index.html")
			}
			continue
		}
		if strings.Contains(s, bad) {
			t.Errorf("index.html contains %q", bad)
		}
	}
}

func TestPlaceholderWithoutBuild(t *testing.T) {
	h := newHandler(fstest.MapFS{})
	r := get(t, h, "/")
	if r.StatusCode != 200 || !strings.Contains(body(t, r), "not built") {
		t.Errorf("placeholder not served: %d", r.StatusCode)
	}
}
