package storage

import (
	"github.com/clew-tracing/clew/internal/model"
)

// TimeRange is a closed interval of Unix nanoseconds. A zero Start or End
// leaves that side open.
type TimeRange struct {
	Start, End uint64
}

// IsZero reports whether the range is open on both sides.
func (r TimeRange) IsZero() bool { return r.Start == 0 && r.End == 0 }

// Contains reports whether t lies in the range.
func (r TimeRange) Contains(t uint64) bool {
	return (r.Start == 0 || t >= r.Start) && (r.End == 0 || t <= r.End)
}

// Overlaps reports whether [min, max] shares a point with the range.
func (r TimeRange) Overlaps(min, max uint64) bool {
	return (r.Start == 0 || max >= r.Start) && (r.End == 0 || min <= r.End)
}

// TraceSummary describes one trace found by a search.
type TraceSummary struct {
	TraceID model.TraceID
	// RootService and RootName come from the root span; when the root has
	// not arrived they come from the earliest span and Root is false.
	RootService   string
	RootName      string
	HasRoot       bool
	StartUnixNano uint64
	EndUnixNano   uint64
	SpanCount     int
	ErrorCount    int
	// Services lists each service with its span counts, in first-seen order by start time.
	Services []ServiceStat
}

// DurationNano returns the trace's wall-clock length.
func (s *TraceSummary) DurationNano() uint64 {
	if s.EndUnixNano < s.StartUnixNano {
		return 0
	}
	return s.EndUnixNano - s.StartUnixNano
}

// ServiceStat counts one service's spans in a trace.
type ServiceStat struct {
	Name       string
	SpanCount  int
	ErrorCount int
}

// OperationQuery selects operations.
type OperationQuery struct {
	Service string
	// Kind, when set (HasKind), keeps only operations of that span kind.
	Kind    model.SpanKind
	HasKind bool
}

// Operation is a span name used by a service, with its kind.
type Operation struct {
	Service string
	Name    string
	Kind    model.SpanKind
}

// AttributeQuery selects attribute names or values for autocomplete.
type AttributeQuery struct {
	Scope AttrScope
	// Name is the attribute whose values are wanted (AttributeValues only).
	Name  string
	Range TimeRange
	Limit int
}

// AttributeName is one attribute key and the scope it was seen in.
type AttributeName struct {
	Scope AttrScope
	Name  string
}

// Dependency is a caller→callee edge between two services.
type Dependency struct {
	Parent     string
	Child      string
	CallCount  uint64
	ErrorCount uint64
}
