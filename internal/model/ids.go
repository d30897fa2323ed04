package model

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// TraceID is a 16-byte W3C trace ID. A 64-bit Zipkin ID occupies the low
// eight bytes with the high eight zero.
type TraceID [16]byte

// SpanID is an 8-byte span ID.
type SpanID [8]byte

// ErrInvalidID reports an ID that is not hexadecimal or is too long.
var ErrInvalidID = errors.New("invalid id")

// IsZero reports whether every byte of the ID is zero, which OTLP forbids.
func (id TraceID) IsZero() bool { return id == TraceID{} }

// IsZero reports whether every byte of the ID is zero.
func (id SpanID) IsZero() bool { return id == SpanID{} }

// String returns the 32-character lower-case hex form.
func (id TraceID) String() string { return hex.EncodeToString(id[:]) }

// String returns the 16-character lower-case hex form.
func (id SpanID) String() string { return hex.EncodeToString(id[:]) }

// Low returns the low 64 bits of the trace ID as a number.
func (id TraceID) Low() uint64 {
	var v uint64
	for _, b := range id[8:] {
		v = v<<8 | uint64(b)
	}
	return v
}

// ShortString returns the hex form without leading zero bytes of the high
// half when the ID is a 64-bit one, as Zipkin prints it.
func (id TraceID) ShortString() string {
	if [8]byte(id[:8]) == [8]byte{} {
		return hex.EncodeToString(id[8:])
	}
	return id.String()
}

// ParseTraceID accepts 1 to 32 hex digits in any case; shorter IDs are
// left-padded with zeros so that "abc", "0abc" and a 64-bit Zipkin ID all
// name the same trace as their 32-digit form.
func ParseTraceID(s string) (TraceID, error) {
	var id TraceID
	if err := parseHex(id[:], s); err != nil {
		return TraceID{}, fmt.Errorf("trace id %q: %w", s, err)
	}
	return id, nil
}

// ParseSpanID accepts 1 to 16 hex digits in any case.
func ParseSpanID(s string) (SpanID, error) {
	var id SpanID
	if err := parseHex(id[:], s); err != nil {
		return SpanID{}, fmt.Errorf("span id %q: %w", s, err)
	}
	return id, nil
}

func parseHex(dst []byte, s string) error {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 2*len(dst) {
		return ErrInvalidID
	}
	// Leading zeros beyond the width are allowed only up to the width: a
	// 33-digit ID is wrong even if its first digit is 0.
	if len(s)%2 == 1 {
		s = "0" + s
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return ErrInvalidID
	}
	copy(dst[len(dst)-len(b):], b)
	return nil
}
