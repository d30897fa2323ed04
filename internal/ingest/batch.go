package ingest

import (
	"errors"
	"strconv"
	"strings"

	"github.com/clew-tracing/clew/internal/model"
)

// maxReasons bounds the distinct reasons a Batch keeps, so that a request
// of spans each failing in its own words cannot grow the message (and the
// memory behind it) without limit.
const maxReasons = 16

// Reason labels of clew_receiver_spans_rejected_total.
const (
	reasonZeroTraceID    = "zero_trace_id"
	reasonZeroSpanID     = "zero_span_id"
	reasonNoStart        = "no_start_time"
	reasonEndBeforeStart = "end_before_start"
	reasonTooOld         = "too_old"
	reasonMalformed      = "malformed"
	reasonInvalid        = "invalid"
	reasonOverloaded     = "overloaded"
	reasonCanceled       = "canceled"
	reasonStorage        = "storage_error"
)

// Batch is one request's worth of spans on their way to [Ingester.Consume],
// with the tally of the spans that were refused on the way. A receiver
// fills Protocol and Bytes, passes [Batch.Reject] as the reject function of
// otlp.FromTraces, and sets Spans to what it returns. A Batch is not safe
// for concurrent use.
type Batch struct {
	// Protocol labels the batch's metrics, e.g. "otlp_grpc" or "zipkin_v2".
	// Receivers use a fixed set of values to keep label cardinality low.
	Protocol string
	// Bytes is the size of the request on the wire (after
	// decompression), for clew_receiver_request_bytes_total.
	Bytes int64
	// Spans are the spans to store.
	Spans []*model.Span

	rejected int
	reasons  []reasonCount  // for Message, by text
	labels   map[string]int // for metrics, by reason label
}

type reasonCount struct {
	msg string
	n   int
}

// otherReasons collects the reasons past maxReasons in Message.
const otherReasons = "other reasons"

// Reject records that a span was refused because of err. The span may be
// nil when it could not even be decoded.
func (b *Batch) Reject(_ *model.Span, err error) {
	b.rejected++
	if b.labels == nil {
		b.labels = make(map[string]int)
	}
	b.labels[reasonLabel(err)]++
	msg := err.Error()
	for i := range b.reasons {
		if b.reasons[i].msg == msg {
			b.reasons[i].n++
			return
		}
	}
	if len(b.reasons) >= maxReasons-1 {
		if last := &b.reasons[len(b.reasons)-1]; last.msg == otherReasons {
			last.n++
			return
		}
		if len(b.reasons) == maxReasons-1 {
			b.reasons = append(b.reasons, reasonCount{msg: otherReasons, n: 1})
			return
		}
	}
	b.reasons = append(b.reasons, reasonCount{msg: msg, n: 1})
}

// Rejected returns how many spans were refused.
func (b *Batch) Rejected() int { return b.rejected }

// Message describes the refused spans for a client, grouped by reason in
// the order first seen, e.g. "2 spans rejected: span id is all zero (1);
// span ends before it starts (1)". It is "" when nothing was refused.
func (b *Batch) Message() string {
	if b.rejected == 0 {
		return ""
	}
	var sb strings.Builder
	sb.WriteString(strconv.Itoa(b.rejected))
	if b.rejected == 1 {
		sb.WriteString(" span rejected: ")
	} else {
		sb.WriteString(" spans rejected: ")
	}
	for i, r := range b.reasons {
		if i > 0 {
			sb.WriteString("; ")
		}
		sb.WriteString(r.msg)
		sb.WriteString(" (")
		sb.WriteString(strconv.Itoa(r.n))
		sb.WriteString(")")
	}
	return sb.String()
}

func reasonLabel(err error) string {
	switch {
	case errors.Is(err, model.ErrZeroTraceID):
		return reasonZeroTraceID
	case errors.Is(err, model.ErrZeroSpanID):
		return reasonZeroSpanID
	case errors.Is(err, model.ErrNoStart):
		return reasonNoStart
	case errors.Is(err, model.ErrEndBeforeStart):
		return reasonEndBeforeStart
	case errors.Is(err, ErrTooOld):
		return reasonTooOld
	case errors.Is(err, ErrMalformed):
		return reasonMalformed
	}
	return reasonInvalid
}
