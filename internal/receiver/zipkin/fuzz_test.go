package zipkin

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/clew-tracing/clew/internal/ingest"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// FuzzZipkin feeds arbitrary bodies to the Zipkin handlers: they must
// never panic and never answer 5xx (storage here never fails).
func FuzzZipkin(f *testing.F) {
	fx := newFixture(f, ingest.Options{}, Options{MaxRequestBytes: 1 << 20})
	f.Add([]byte(v2JSON()), uint8(0))
	f.Add([]byte(v2JSON()), uint8(2))
	f.Add([]byte(fmt.Sprintf(`[{"traceId":"463ac35c9f6413ad","id":"1","annotations":[null],"binaryAnnotations":[{"key":"lc","value":"x"}],"timestamp":%d}]`, micros(0))), uint8(2))
	f.Add([]byte("\x0a\x05\x0a\x03\x01\x02\x03"), uint8(1))
	f.Add([]byte(`[null,{},[]]`), uint8(0))
	f.Fuzz(func(t *testing.T, body []byte, mode uint8) {
		path, ct := V2Path, ctJSON
		switch mode % 3 {
		case 1:
			ct = ctProto
		case 2:
			path = V1Path
		}
		rec := post(fx.mux, path, ct, "", body)
		if rec.Code >= 500 || rec.Code < 200 || (rec.Code >= 300 && rec.Code < 400) {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
	})
}
