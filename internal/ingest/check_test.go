package ingest

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage/storagetest"
)

func TestCheckValidation(t *testing.T) {
	in, _ := newTestIngester(t, &storagetest.Recorder{}, Options{Retention: 168 * time.Hour})
	f := func(mutate func(*model.Span), want error, wantMsg string) {
		t.Helper()
		s := validSpan(1)
		mutate(s)
		err := in.Check(s)
		if !errors.Is(err, want) {
			t.Fatalf("Check = %v, want %v", err, want)
		}
		if err != nil && err.Error() != wantMsg {
			t.Fatalf("Check message %q, want %q", err, wantMsg)
		}
	}
	f(func(*model.Span) {}, nil, "")
	f(func(s *model.Span) { s.TraceID = model.TraceID{} }, model.ErrZeroTraceID, "trace id is all zero")
	f(func(s *model.Span) { s.SpanID = model.SpanID{} }, model.ErrZeroSpanID, "span id is all zero")
	f(func(s *model.Span) { s.StartUnixNano = 0 }, model.ErrNoStart, "span has no start time")
	f(func(s *model.Span) { s.EndUnixNano = s.StartUnixNano - 1 }, model.ErrEndBeforeStart, "span ends before it starts")
	old := uint64(testNow.Add(-169 * time.Hour).UnixNano())
	f(func(s *model.Span) { s.StartUnixNano, s.EndUnixNano = old, old }, ErrTooOld, "older than retention 168h")
	// Started before the window but ended inside it: kept.
	f(func(s *model.Span) { s.StartUnixNano = old }, nil, "")
}

func TestCheckNoRetention(t *testing.T) {
	in, _ := newTestIngester(t, &storagetest.Recorder{}, Options{})
	s := validSpan(1)
	s.StartUnixNano, s.EndUnixNano = 1, 2 // 1970
	if err := in.Check(s); err != nil {
		t.Fatalf("Check without retention: %v", err)
	}
}

func TestCheckTruncates(t *testing.T) {
	in, reg := newTestIngester(t, &storagetest.Recorder{}, Options{MaxAttributeValueBytes: 8})
	long := strings.Repeat("x", 20)
	// "aaaaaaaé": é is 2 bytes at offsets 7-8, so the cut backs up to 7.
	utf := "aaaaaaaé"
	s := validSpan(1)
	s.Attributes = []model.KeyValue{
		{Key: "long", Value: model.StringValue(long)},
		{Key: "short", Value: model.StringValue("ok")},
		{Key: "utf", Value: model.StringValue(utf + "zzz")},
		{Key: "bytes", Value: model.BytesValue([]byte(long))},
		{Key: "arr", Value: model.Value{Type: model.TypeArray, Array: []model.Value{model.StringValue(long), model.IntValue(1)}}},
		{Key: "map", Value: model.Value{Type: model.TypeMap, Map: []model.KeyValue{{Key: "k", Value: model.StringValue(long)}}}},
	}
	s.Events = []model.Event{{Name: "e", Attributes: []model.KeyValue{{Key: "k", Value: model.StringValue(long)}}}}
	s.Links = []model.Link{{TraceID: model.TraceID{1}, SpanID: model.SpanID{1}, Attributes: []model.KeyValue{{Key: "k", Value: model.StringValue(long)}}}}
	s.Resource.Attributes = []model.KeyValue{{Key: "k", Value: model.StringValue(long)}}
	s.Scope.Attributes = []model.KeyValue{{Key: "k", Value: model.StringValue(long)}}
	if err := in.Check(s); err != nil {
		t.Fatal(err)
	}
	// A second span sharing the resource and scope must not count them again.
	s2 := validSpan(2)
	s2.Resource, s2.Scope = s.Resource, s.Scope
	if err := in.Check(s2); err != nil {
		t.Fatal(err)
	}
	want8 := strings.Repeat("x", 8)
	for _, v := range []model.Value{
		s.Attributes[0].Value, s.Attributes[3].Value, s.Attributes[4].Value.Array[0], s.Attributes[5].Value.Map[0].Value,
		s.Events[0].Attributes[0].Value, s.Links[0].Attributes[0].Value, s.Resource.Attributes[0].Value, s.Scope.Attributes[0].Value,
	} {
		if v.Str != want8 {
			t.Errorf("value %q not truncated to %q", v.Str, want8)
		}
	}
	if got := s.Attributes[1].Value.Str; got != "ok" {
		t.Errorf("short value changed to %q", got)
	}
	if got := s.Attributes[2].Value.Str; got != "aaaaaaa" || !utf8.ValidString(got) {
		t.Errorf("utf-8 value cut to %q", got)
	}
	if got := metricValue(reg, "clew_ingest_attribute_values_truncated_total", nil); got != 9 {
		t.Errorf("truncated = %v, want 9", got)
	}
}
