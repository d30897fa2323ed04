package ingest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/clew-tracing/clew/internal/model"
)

func TestBatchMessage(t *testing.T) {
	var b Batch
	if b.Message() != "" || b.Rejected() != 0 {
		t.Fatal("empty batch has a message")
	}
	b.Reject(nil, model.ErrZeroSpanID)
	if got, want := b.Message(), "1 span rejected: span id is all zero (1)"; got != want {
		t.Fatalf("Message = %q, want %q", got, want)
	}
	b.Reject(validSpan(1), model.ErrEndBeforeStart)
	b.Reject(validSpan(2), model.ErrZeroSpanID)
	if got, want := b.Message(), "3 spans rejected: span id is all zero (2); span ends before it starts (1)"; got != want {
		t.Fatalf("Message = %q, want %q", got, want)
	}
	if b.Rejected() != 3 {
		t.Fatalf("Rejected = %d", b.Rejected())
	}
}

func TestBatchMessageIsBounded(t *testing.T) {
	var b Batch
	for i := range 100 {
		b.Reject(nil, fmt.Errorf("%w: reason %d", ErrMalformed, i))
	}
	msg := b.Message()
	if !strings.HasPrefix(msg, "100 spans rejected: malformed span: reason 0 (1);") {
		t.Fatalf("Message = %q", msg)
	}
	if !strings.HasSuffix(msg, "; other reasons (85)") {
		t.Fatalf("Message does not fold the rest: %q", msg)
	}
	if got := strings.Count(msg, ";"); got != maxReasons-1 {
		t.Fatalf("Message has %d reasons, want %d", got+1, maxReasons)
	}
	if b.labels[reasonMalformed] != 100 {
		t.Fatalf("labels = %v", b.labels)
	}
}

func TestReasonLabel(t *testing.T) {
	for err, want := range map[error]string{
		model.ErrZeroTraceID:                       "zero_trace_id",
		model.ErrZeroSpanID:                        "zero_span_id",
		model.ErrNoStart:                           "no_start_time",
		model.ErrEndBeforeStart:                    "end_before_start",
		fmt.Errorf("%w 1h", ErrTooOld):             "too_old",
		fmt.Errorf("%w: bad id", ErrMalformed):     "malformed",
		errors.New("something nobody anticipated"): "invalid",
	} {
		if got := reasonLabel(err); got != want {
			t.Errorf("reasonLabel(%v) = %q, want %q", err, got, want)
		}
	}
}
