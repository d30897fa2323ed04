package ingest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/storagetest"
	"github.com/prometheus/client_golang/prometheus"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newTestIngester(t *testing.T, w *storagetest.Recorder, opts Options) (*Ingester, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts.Registerer = reg
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	in, err := New(w, opts)
	if err != nil {
		t.Fatal(err)
	}
	return in, reg
}

// validSpan returns a span that passes Check at testNow.
func validSpan(id byte) *model.Span {
	start := uint64(testNow.Add(-time.Minute).UnixNano())
	return &model.Span{
		TraceID:       model.TraceID{15: 1},
		SpanID:        model.SpanID{7: id},
		Name:          "op",
		StartUnixNano: start,
		EndUnixNano:   start + 1000,
		Resource:      &model.Resource{ServiceName: "svc"},
		Scope:         &model.Scope{},
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	if _, err := New(nil, Options{}); err == nil {
		t.Fatal("New(nil writer) succeeded")
	}
	for _, o := range []Options{
		{MaxInFlightBytes: -1},
		{Retention: -time.Hour},
		{MaxAttributeValueBytes: -1},
		{MaxSpansPerRequest: -1},
	} {
		if _, err := New(&storagetest.Recorder{}, o); err == nil {
			t.Errorf("New(%+v) succeeded", o)
		}
	}
}

func TestNewDefaults(t *testing.T) {
	in, err := New(&storagetest.Recorder{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := in.Options()
	if o.MaxInFlightBytes != DefaultMaxInFlightBytes || o.MaxAttributeValueBytes != DefaultMaxAttributeValueBytes || o.Now == nil || o.Logger == nil {
		t.Fatalf("defaults not applied: %+v", o)
	}
}

func TestTwoIngestersOneProcess(t *testing.T) {
	// No package-level state: two Ingesters on their own registries.
	a, _ := newTestIngester(t, &storagetest.Recorder{}, Options{})
	b, _ := newTestIngester(t, &storagetest.Recorder{}, Options{})
	if a == b {
		t.Fatal("same ingester")
	}
	// The same registry twice is an error, not a panic.
	reg := prometheus.NewRegistry()
	if _, err := New(&storagetest.Recorder{}, Options{Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(&storagetest.Recorder{}, Options{Registerer: reg}); err == nil {
		t.Fatal("second registration succeeded")
	}
}

func TestConsumeWritesAndCounts(t *testing.T) {
	w := &storagetest.Recorder{}
	in, reg := newTestIngester(t, w, Options{})
	b := Batch{Protocol: "test", Bytes: 123, Spans: []*model.Span{validSpan(1), validSpan(2)}}
	b.Reject(nil, model.ErrZeroSpanID)
	if err := in.Consume(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	if got := len(w.Stored()); got != 2 {
		t.Fatalf("stored %d spans, want 2", got)
	}
	p := map[string]string{"protocol": "test"}
	for name, want := range map[string]float64{
		"clew_receiver_spans_received_total": 3,
		"clew_receiver_spans_accepted_total": 2,
		"clew_receiver_request_bytes_total":  123,
		"clew_ingest_latency_seconds":        1,
	} {
		labels := p
		if strings.HasPrefix(name, "clew_ingest") {
			labels = nil
		}
		if got := metricValue(reg, name, labels); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if got := metricValue(reg, "clew_receiver_spans_rejected_total", map[string]string{"protocol": "test", "reason": "zero_span_id"}); got != 1 {
		t.Errorf("rejected{zero_span_id} = %v, want 1", got)
	}
}

func TestConsumeEmptyBatchDoesNotWrite(t *testing.T) {
	w := &storagetest.Recorder{}
	w.SetErr(errors.New("must not be called"))
	in, _ := newTestIngester(t, w, Options{})
	b := Batch{Protocol: "test"}
	b.Reject(nil, model.ErrZeroTraceID)
	if err := in.Consume(context.Background(), &b); err != nil {
		t.Fatalf("Consume of empty batch: %v", err)
	}
}

func TestConsumeStorageErrors(t *testing.T) {
	f := func(werr error, wantOverloaded bool, reason string) {
		t.Helper()
		w := &storagetest.Recorder{}
		w.SetErr(werr)
		in, reg := newTestIngester(t, w, Options{})
		b := Batch{Protocol: "test", Spans: []*model.Span{validSpan(1)}}
		err := in.Consume(context.Background(), &b)
		if !errors.Is(err, werr) {
			t.Fatalf("Consume error %v does not wrap %v", err, werr)
		}
		if got := errors.Is(err, ErrOverloaded); got != wantOverloaded {
			t.Fatalf("errors.Is(%v, ErrOverloaded) = %v", err, got)
		}
		if got := metricValue(reg, "clew_receiver_spans_rejected_total", map[string]string{"protocol": "test", "reason": reason}); got != 1 {
			t.Fatalf("rejected{%s} = %v, want 1", reason, got)
		}
		if got := metricValue(reg, "clew_receiver_spans_accepted_total", map[string]string{"protocol": "test"}); got != 0 {
			t.Fatalf("accepted = %v after a failed write", got)
		}
	}
	f(storage.ErrOverloaded, true, "overloaded")
	f(errors.New("disk on fire"), false, "storage_error")
}

func TestCheckRequest(t *testing.T) {
	in, _ := newTestIngester(t, &storagetest.Recorder{}, Options{MaxSpansPerRequest: 2})
	if err := in.CheckRequest(2); err != nil {
		t.Fatal(err)
	}
	err := in.CheckRequest(3)
	if !errors.Is(err, ErrTooManySpans) || !strings.Contains(err.Error(), "3 spans, limit 2") {
		t.Fatalf("CheckRequest(3) = %v", err)
	}
	unlimited, _ := newTestIngester(t, &storagetest.Recorder{}, Options{})
	if err := unlimited.CheckRequest(1 << 30); err != nil {
		t.Fatal(err)
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		168 * time.Hour:                  "168h",
		90 * time.Minute:                 "1h30m",
		10 * time.Second:                 "10s",
		time.Minute:                      "1m",
		time.Hour + 10*time.Second:       "1h0m10s",
		1500 * time.Millisecond:          "1.5s",
		0:                                "0s",
		20*time.Hour + 20*time.Minute:    "20h20m",
		100*time.Hour + 0*time.Minute:    "100h",
		10*time.Minute + 0*time.Second:   "10m",
		10*time.Minute + 10*time.Second:  "10m10s",
		100*time.Minute + 10*time.Second: "1h40m10s",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
