package otlp

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/clew-tracing/clew/internal/ingest"
)

func preflight(h http.Handler, origin, method, headers string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodOptions, TracesPath, nil)
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	req.Header.Set("Access-Control-Request-Method", method)
	if headers != "" {
		req.Header.Set("Access-Control-Request-Headers", headers)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestCORSPreflight(t *testing.T) {
	fx := newFixture(t, ingest.Options{}, Options{AllowedOrigins: []string{"https://app.example.com"}})
	h := fx.r.Handler()

	rec := preflight(h, "https://app.example.com", "POST", "content-type, x-api-key, bad header")
	if rec.Code != http.StatusNoContent {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	for k, want := range map[string]string{
		"Access-Control-Allow-Origin":  "https://app.example.com",
		"Access-Control-Allow-Methods": "POST",
		"Access-Control-Allow-Headers": "Content-Type, Content-Encoding, x-api-key",
		"Access-Control-Max-Age":       "7200",
	} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if vary := rec.Header().Values("Vary"); len(vary) == 0 || vary[0] != "Origin" {
		t.Errorf("Vary = %v", vary)
	}

	for _, c := range []struct{ origin, method string }{
		{"https://evil.example.com", "POST"},
		{"", "POST"},
		{"https://app.example.com", "DELETE"},
	} {
		rec := preflight(h, c.origin, c.method, "")
		if rec.Code != http.StatusForbidden || rec.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight %+v: %d, allow-origin %q", c, rec.Code, rec.Header().Get("Access-Control-Allow-Origin"))
		}
	}
}

func TestCORSActualRequest(t *testing.T) {
	fx := newFixture(t, ingest.Options{}, Options{AllowedOrigins: []string{"https://app.example.com"}})
	send := func(origin string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, TracesPath, bytes.NewReader(encode(t, true, span(1))))
		req.Header.Set("Content-Type", ctJSON)
		req.Header.Set("Origin", origin)
		rec := httptest.NewRecorder()
		fx.r.Handler().ServeHTTP(rec, req)
		return rec
	}
	rec := send("https://app.example.com")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "https://app.example.com" {
		t.Fatalf("Allow-Origin %q", got)
	}
	if got := rec.Header().Get("Access-Control-Expose-Headers"); got != "Retry-After" {
		t.Fatalf("Expose-Headers %q", got)
	}
	if got := rec.Header().Get("Vary"); got != "Origin" {
		t.Fatalf("Vary %q", got)
	}
	rec = send("https://evil.example.com")
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "" {
		t.Fatalf("disallowed origin got Allow-Origin %q", got)
	}
}

func TestCORSWildcard(t *testing.T) {
	fx := newFixture(t, ingest.Options{}, Options{AllowedOrigins: []string{"*"}})
	rec := preflight(fx.r.Handler(), "http://localhost:3000", "POST", "")
	if rec.Code != http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("status %d, Allow-Origin %q", rec.Code, rec.Header().Get("Access-Control-Allow-Origin"))
	}
	if got := rec.Header().Get("Access-Control-Allow-Headers"); got != "Content-Type, Content-Encoding" {
		t.Fatalf("Allow-Headers %q", got)
	}
}

func TestCORSDisabled(t *testing.T) {
	fx := newFixture(t, ingest.Options{}, Options{})
	if rec := preflight(fx.r.Handler(), "https://app.example.com", "POST", ""); rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("preflight without AllowedOrigins: %d", rec.Code)
	}
	req := httptest.NewRequest(http.MethodPost, TracesPath, bytes.NewReader(encode(t, false, span(1))))
	req.Header.Set("Content-Type", ctProto)
	req.Header.Set("Origin", "https://app.example.com")
	rec := httptest.NewRecorder()
	fx.r.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("status %d, Allow-Origin %q", rec.Code, rec.Header().Get("Access-Control-Allow-Origin"))
	}
}
