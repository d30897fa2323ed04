package zipkin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/clew-tracing/clew/internal/ingest"
	"github.com/clew-tracing/clew/internal/model"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/zipkin/zipkinv1"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/zipkin/zipkinv2"
	zipkinmodel "github.com/openzipkin/zipkin-go/model"
	"github.com/openzipkin/zipkin-go/proto/zipkin_proto3"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/protobuf/encoding/protowire"
)

// decoded is a request's spans: the ones that decoded, as OTLP, and one
// error per span that did not.
type decoded struct {
	traces []ptrace.Traces
	bad    []error
}

func (d *decoded) spanCount() int {
	n := len(d.bad)
	for _, td := range d.traces {
		n += td.SpanCount()
	}
	return n
}

// decoder turns a request body into spans. It fails only when the body as
// a whole cannot be read (not a JSON array, not a ListOfSpans); a span
// that cannot be decoded goes to decoded.bad.
type decoder func(body []byte) (decoded, error)

// malformed wraps a span's decoding error as ingest.ErrMalformed, except
// the one that has a name of its own.
func malformed(err error) error {
	if errors.Is(err, zipkinmodel.ErrValidIDRequired) {
		return model.ErrZeroSpanID
	}
	return fmt.Errorf("%w: %v", ingest.ErrMalformed, err)
}

// decodeV2JSON decodes a Zipkin v2 JSON array span by span: zipkin-go
// fails a whole array for one span with a zero ID.
func decodeV2JSON(body []byte) (decoded, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		return decoded{}, fmt.Errorf("want a JSON array of Zipkin v2 spans: %w", err)
	}
	var d decoded
	spans := make([]*zipkinmodel.SpanModel, 0, len(raws))
	for _, raw := range raws {
		s := new(zipkinmodel.SpanModel)
		// NB: zipkin-go's Annotation.UnmarshalJSON dereferences null.
		if _, err := safely(func() (struct{}, error) { return struct{}{}, json.Unmarshal(raw, s) }); err != nil {
			d.bad = append(d.bad, malformed(err))
			continue
		}
		spans = append(spans, s)
	}
	translateV2(&d, spans)
	return d, nil
}

// decodeV2Proto decodes a zipkin.proto3 ListOfSpans span by span, for the
// same reason as decodeV2JSON.
func decodeV2Proto(body []byte) (decoded, error) {
	entries, err := splitListOfSpans(body)
	if err != nil {
		return decoded{}, fmt.Errorf("want a protobuf zipkin.proto3.ListOfSpans: %w", err)
	}
	var d decoded
	spans := make([]*zipkinmodel.SpanModel, 0, len(entries))
	for _, e := range entries {
		ss, err := safely(func() ([]*zipkinmodel.SpanModel, error) { return zipkin_proto3.ParseSpans(e, false) })
		if err != nil {
			d.bad = append(d.bad, malformed(err))
			continue
		}
		spans = append(spans, ss...)
	}
	translateV2(&d, spans)
	return d, nil
}

// splitListOfSpans returns each `repeated Span spans = 1` entry of a
// ListOfSpans with its tag, so that each is a ListOfSpans of one span.
// Other fields are skipped, as protobuf decoders do.
func splitListOfSpans(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return nil, protowire.ParseError(m)
		}
		if num == 1 {
			if typ != protowire.BytesType {
				return nil, fmt.Errorf("field 1 has wire type %d, want bytes", typ)
			}
			out = append(out, b[:n+m])
		}
		b = b[n+m:]
	}
	return out, nil
}

// translateV2 converts spans to OTLP, all at once when it can and span by
// span when one of them spoils the batch.
func translateV2(d *decoded, spans []*zipkinmodel.SpanModel) {
	if len(spans) == 0 {
		return
	}
	if td, err := safely(func() (ptrace.Traces, error) { return zipkinv2.ToTranslator{}.ToTraces(spans) }); err == nil {
		d.traces = append(d.traces, td)
		return
	}
	for _, s := range spans {
		td, err := safely(func() (ptrace.Traces, error) { return zipkinv2.ToTranslator{}.ToTraces([]*zipkinmodel.SpanModel{s}) })
		if err != nil {
			d.bad = append(d.bad, malformed(err))
			continue
		}
		d.traces = append(d.traces, td)
	}
}

// decodeV1JSON decodes a Zipkin v1 JSON array, all at once when it can
// and span by span when one span spoils it.
func decodeV1JSON(body []byte) (decoded, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		return decoded{}, fmt.Errorf("want a JSON array of Zipkin v1 spans: %w", err)
	}
	var d decoded
	// NB: the v1 translator dereferences a null span; drop nulls first.
	kept := raws[:0]
	for _, raw := range raws {
		if string(bytes.TrimSpace(raw)) == "null" {
			d.bad = append(d.bad, malformed(errors.New("span is null")))
			continue
		}
		kept = append(kept, raw)
	}
	if len(kept) == 0 {
		return d, nil
	}
	u := zipkinv1.NewJSONTracesUnmarshaler(false)
	if len(kept) == len(raws) {
		if td, err := safely(func() (ptrace.Traces, error) { return u.UnmarshalTraces(body) }); err == nil {
			d.traces = append(d.traces, td)
			return d, nil
		}
	}
	for _, raw := range kept {
		one := make([]byte, 0, len(raw)+2)
		one = append(append(append(one, '['), raw...), ']')
		td, err := safely(func() (ptrace.Traces, error) { return u.UnmarshalTraces(one) })
		if err != nil {
			d.bad = append(d.bad, malformed(err))
			continue
		}
		d.traces = append(d.traces, td)
	}
	return d, nil
}

// safely runs a decoder on untrusted input, turning a panic (the
// translators dereference nulls that clients may send) into an error.
func safely[T any](f func() (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decoder failed: %v", r)
		}
	}()
	return f()
}
