package otlp

import (
	"testing"

	"github.com/clew-tracing/clew/internal/ingest"
	"github.com/clew-tracing/clew/internal/model"
)

// FuzzOTLPHTTP feeds arbitrary bodies to the OTLP/HTTP handler: it must
// never panic and never answer 5xx (storage here never fails).
func FuzzOTLPHTTP(f *testing.F) {
	fx := newFixture(f, ingest.Options{}, Options{MaxRequestBytes: 1 << 20})
	bad := span(2)
	bad.SpanID = model.SpanID{}
	f.Add(encode(f, false, span(1), bad), false, false)
	f.Add(encode(f, true, span(1), bad), true, false)
	f.Add(gzipped(f, encode(f, false, span(1))), false, true)
	f.Add([]byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]}`), true, false)
	f.Add([]byte{0x0a, 0x10, 0x01}, false, false)
	f.Add([]byte{}, false, true)
	f.Fuzz(func(t *testing.T, body []byte, json, gz bool) {
		ct, enc := ctProto, ""
		if json {
			ct = ctJSON
		}
		if gz {
			enc = "gzip"
		}
		rec := post(fx.r.Handler(), ct, enc, body)
		if rec.Code >= 500 || rec.Code < 200 || (rec.Code >= 300 && rec.Code < 400) {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
	})
}
