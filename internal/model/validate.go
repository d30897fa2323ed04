package model

import "errors"

// Validation errors, named so that receivers can count rejections by reason.
var (
	ErrZeroTraceID    = errors.New("trace id is all zero")
	ErrZeroSpanID     = errors.New("span id is all zero")
	ErrEndBeforeStart = errors.New("span ends before it starts")
	ErrNoStart        = errors.New("span has no start time")
)

// Validate reports why a span must not be stored, or nil. It checks only
// what would make the span unfindable or meaningless; size limits belong to
// the receivers.
func Validate(s *Span) error {
	switch {
	case s.TraceID.IsZero():
		return ErrZeroTraceID
	case s.SpanID.IsZero():
		return ErrZeroSpanID
	case s.StartUnixNano == 0:
		return ErrNoStart
	case s.EndUnixNano < s.StartUnixNano:
		return ErrEndBeforeStart
	}
	return nil
}
