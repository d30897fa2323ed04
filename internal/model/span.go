package model

// SpanKind is the OTLP span kind; the numeric values match OTLP's enum.
type SpanKind uint8

// Span kinds, numbered as in OTLP.
const (
	KindUnspecified SpanKind = 0
	KindInternal    SpanKind = 1
	KindServer      SpanKind = 2
	KindClient      SpanKind = 3
	KindProducer    SpanKind = 4
	KindConsumer    SpanKind = 5
)

var kindNames = [...]string{"unspecified", "internal", "server", "client", "producer", "consumer"}

// String returns the lower-case name used by TraceQL and Jaeger's span.kind tag.
func (k SpanKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unspecified"
}

// ParseSpanKind maps a lower-case kind name back to its value.
func ParseSpanKind(s string) (SpanKind, bool) {
	for i, n := range kindNames {
		if n == s {
			return SpanKind(i), true
		}
	}
	return KindUnspecified, false
}

// StatusCode is the OTLP status code; numeric values match OTLP's enum.
type StatusCode uint8

// Status codes, numbered as in OTLP.
const (
	StatusUnset StatusCode = 0
	StatusOK    StatusCode = 1
	StatusError StatusCode = 2
)

// String returns "unset", "ok" or "error".
func (c StatusCode) String() string {
	switch c {
	case StatusOK:
		return "ok"
	case StatusError:
		return "error"
	}
	return "unset"
}

// Resource describes the entity that produced spans. ServiceName is pulled
// out of Attributes (service.name) because every query filters on it; it is
// also kept in Attributes so that nothing is lost on a round trip.
type Resource struct {
	ServiceName string
	Attributes  []KeyValue
	SchemaURL   string
}

// Scope is the instrumentation scope (library) that created a span.
type Scope struct {
	Name       string
	Version    string
	Attributes []KeyValue
	SchemaURL  string
}

// Event is a timed annotation on a span (Jaeger calls them logs).
type Event struct {
	TimeUnixNano           uint64
	Name                   string
	Attributes             []KeyValue
	DroppedAttributesCount uint32
}

// Link points from a span to another span, possibly in another trace.
type Link struct {
	TraceID                TraceID
	SpanID                 SpanID
	TraceState             string
	Attributes             []KeyValue
	Flags                  uint32
	DroppedAttributesCount uint32
}

// Span is one unit of work. Resource and Scope may be shared between spans
// and must be treated as read-only once a span is handed to storage.
type Span struct {
	TraceID       TraceID
	SpanID        SpanID
	ParentSpanID  SpanID
	TraceState    string
	Flags         uint32
	Name          string
	Kind          SpanKind
	StartUnixNano uint64
	EndUnixNano   uint64
	StatusCode    StatusCode
	StatusMessage string
	Attributes    []KeyValue
	Events        []Event
	Links         []Link

	DroppedAttributesCount uint32
	DroppedEventsCount     uint32
	DroppedLinksCount      uint32

	Resource *Resource
	Scope    *Scope
}

// Duration returns the span's length in nanoseconds (0 if it ends before it starts).
func (s *Span) Duration() uint64 {
	if s.EndUnixNano < s.StartUnixNano {
		return 0
	}
	return s.EndUnixNano - s.StartUnixNano
}

// Service returns the span's service name, or "" when it has no resource.
func (s *Span) Service() string {
	if s.Resource == nil {
		return ""
	}
	return s.Resource.ServiceName
}

// IsRoot reports whether the span has no parent.
func (s *Span) IsRoot() bool { return s.ParentSpanID.IsZero() }

// Trace is all stored spans of one trace, in no particular order unless a
// function says otherwise.
type Trace struct {
	ID    TraceID
	Spans []*Span
}

// Clone returns a copy of the span that shares nothing mutable with it
// except Resource and Scope, which are read-only once stored.
func (s *Span) Clone() *Span {
	c := *s
	c.Attributes = cloneKVs(s.Attributes)
	if s.Events != nil {
		c.Events = make([]Event, len(s.Events))
		for i, e := range s.Events {
			e.Attributes = cloneKVs(e.Attributes)
			c.Events[i] = e
		}
	}
	if s.Links != nil {
		c.Links = make([]Link, len(s.Links))
		for i, l := range s.Links {
			l.Attributes = cloneKVs(l.Attributes)
			c.Links[i] = l
		}
	}
	return &c
}

func cloneKVs(kvs []KeyValue) []KeyValue {
	if kvs == nil {
		return nil
	}
	out := make([]KeyValue, len(kvs))
	for i, kv := range kvs {
		out[i] = KeyValue{Key: kv.Key, Value: kv.Value.clone()}
	}
	return out
}

func (v Value) clone() Value {
	if v.Array != nil {
		a := make([]Value, len(v.Array))
		for i, e := range v.Array {
			a[i] = e.clone()
		}
		v.Array = a
	}
	if v.Map != nil {
		v.Map = cloneKVs(v.Map)
	}
	return v
}
