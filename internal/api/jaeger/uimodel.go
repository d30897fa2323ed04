package jaeger

import (
	"math"
	"strconv"
	"strings"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/query"
)

// The Jaeger UI trace model, as the v1 API returns it.

type uiTrace struct {
	TraceID   string               `json:"traceID"`
	Spans     []uiSpan             `json:"spans"`
	Processes map[string]uiProcess `json:"processes"`
	Warnings  []string             `json:"warnings"`
}

type uiSpan struct {
	TraceID       string        `json:"traceID"`
	SpanID        string        `json:"spanID"`
	Flags         uint32        `json:"flags"`
	OperationName string        `json:"operationName"`
	References    []uiReference `json:"references"`
	StartTime     uint64        `json:"startTime"` // µs since the epoch
	Duration      uint64        `json:"duration"`  // µs
	Tags          []uiKeyValue  `json:"tags"`
	Logs          []uiLog       `json:"logs"`
	ProcessID     string        `json:"processID"`
	Warnings      []string      `json:"warnings"`
}

type uiReference struct {
	RefType string `json:"refType"`
	TraceID string `json:"traceID"`
	SpanID  string `json:"spanID"`
}

// Reference types.
const (
	refChildOf     = "CHILD_OF"
	refFollowsFrom = "FOLLOWS_FROM"
)

// uiKeyValue is a tag or log field; Value's JSON type follows Type.
type uiKeyValue struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

type uiLog struct {
	Timestamp uint64       `json:"timestamp"` // µs since the epoch
	Fields    []uiKeyValue `json:"fields"`
}

type uiProcess struct {
	ServiceName string       `json:"serviceName"`
	Tags        []uiKeyValue `json:"tags"`
}

// Keys with a meaning in the OpenTelemetry-to-Jaeger mapping.
const (
	keyEvent      = "event"
	keyTraceState = "w3c.tracestate"
	// keyRefType on a link says which OpenTracing reference it came from,
	// so that a second CHILD_OF survives a round trip through OTLP.
	keyRefType = "opentracing.ref_type"
)

// toUITrace renders a trace in the UI model. Spans keep their order (the
// query layer sorts them by start time); processes are numbered p1, p2, …
// in order of first use and shared by spans whose service and tags are
// equal.
func toUITrace(t *model.Trace) uiTrace {
	out := uiTrace{
		TraceID:   t.ID.String(),
		Spans:     make([]uiSpan, len(t.Spans)),
		Processes: map[string]uiProcess{},
	}
	p := processTable{byPtr: map[*model.Resource]string{}, byKey: map[string]string{}, out: out.Processes}
	for i, s := range t.Spans {
		out.Spans[i] = toUISpan(s, p.id(s.Resource))
	}
	return out
}

type processTable struct {
	byPtr map[*model.Resource]string
	byKey map[string]string
	out   map[string]uiProcess
}

// id returns the process ID of res, adding the process on first use.
func (p *processTable) id(res *model.Resource) string {
	if id, ok := p.byPtr[res]; ok {
		return id
	}
	proc := uiProcess{Tags: []uiKeyValue{}}
	if res != nil {
		proc.ServiceName = res.ServiceName
		for _, kv := range res.Attributes {
			if kv.Key != "service.name" {
				proc.Tags = append(proc.Tags, toUIKeyValue(kv.Key, kv.Value))
			}
		}
	}
	key := processKey(proc)
	id, ok := p.byKey[key]
	if !ok {
		id = "p" + strconv.Itoa(len(p.out)+1)
		p.byKey[key] = id
		p.out[id] = proc
	}
	p.byPtr[res] = id
	return id
}

// processKey is an unambiguous rendering of a process for deduplication.
func processKey(p uiProcess) string {
	var b strings.Builder
	b.WriteString(strconv.Quote(p.ServiceName))
	for _, t := range p.Tags {
		b.WriteByte(',')
		b.WriteString(strconv.Quote(t.Key))
		b.WriteString(t.Type)
		b.WriteString(strconv.Quote(valueString(t.Value)))
	}
	return b.String()
}

func valueString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case []byte:
		return string(v)
	}
	return ""
}

func toUISpan(s *model.Span, processID string) uiSpan {
	traceID := s.TraceID.String()
	out := uiSpan{
		TraceID:       traceID,
		SpanID:        s.SpanID.String(),
		Flags:         s.Flags & 0xff, // W3C trace flags; bit 0 is Jaeger's "sampled" too
		OperationName: s.Name,
		References:    references(s, traceID),
		StartTime:     s.StartUnixNano / 1000,
		Duration:      s.Duration() / 1000,
		Tags:          spanTags(s),
		Logs:          make([]uiLog, len(s.Events)),
		ProcessID:     processID,
	}
	for i, e := range s.Events {
		out.Logs[i] = toUILog(e)
	}
	return out
}

// references renders the parent as CHILD_OF and links as FOLLOWS_FROM,
// unless a link says it was a CHILD_OF reference.
func references(s *model.Span, traceID string) []uiReference {
	refs := make([]uiReference, 0, 1+len(s.Links))
	if !s.ParentSpanID.IsZero() {
		refs = append(refs, uiReference{RefType: refChildOf, TraceID: traceID, SpanID: s.ParentSpanID.String()})
	}
	for _, l := range s.Links {
		if l.TraceID == s.TraceID && l.SpanID == s.ParentSpanID {
			continue // the parent again
		}
		typ := refFollowsFrom
		if v, ok := model.Find(l.Attributes, keyRefType); ok && strings.EqualFold(v.AsString(), "child_of") {
			typ = refChildOf
		}
		refs = append(refs, uiReference{RefType: typ, TraceID: l.TraceID.String(), SpanID: l.SpanID.String()})
	}
	return refs
}

// spanTags renders the span's attributes followed by the tags the
// OpenTelemetry-to-Jaeger mapping derives from its intrinsics. A derived
// tag is left out when an attribute of the same key exists.
func spanTags(s *model.Span) []uiKeyValue {
	tags := make([]uiKeyValue, 0, len(s.Attributes)+6)
	for _, kv := range s.Attributes {
		tags = append(tags, toUIKeyValue(kv.Key, kv.Value))
	}
	add := func(key string, v model.Value) {
		if _, dup := model.Find(s.Attributes, key); !dup {
			tags = append(tags, toUIKeyValue(key, v))
		}
	}
	if s.Scope != nil && s.Scope.Name != "" {
		add(query.TagScopeName, model.StringValue(s.Scope.Name))
		add(query.TagLibraryName, model.StringValue(s.Scope.Name))
		if s.Scope.Version != "" {
			add(query.TagScopeVersion, model.StringValue(s.Scope.Version))
			add(query.TagLibraryVersion, model.StringValue(s.Scope.Version))
		}
	}
	if s.Kind != model.KindUnspecified {
		add(query.TagSpanKind, model.StringValue(s.Kind.String()))
	}
	switch s.StatusCode {
	case model.StatusOK:
		add(query.TagStatusCode, model.StringValue("OK"))
	case model.StatusError:
		add(query.TagStatusCode, model.StringValue("ERROR"))
		add(query.TagError, model.BoolValue(true))
	}
	if s.StatusMessage != "" {
		add(query.TagStatusDescription, model.StringValue(s.StatusMessage))
	}
	if s.TraceState != "" {
		add(keyTraceState, model.StringValue(s.TraceState))
	}
	return tags
}

// toUILog renders an event: its name as the "event" field, then its
// attributes.
func toUILog(e model.Event) uiLog {
	l := uiLog{Timestamp: e.TimeUnixNano / 1000, Fields: make([]uiKeyValue, 0, len(e.Attributes)+1)}
	if _, has := model.Find(e.Attributes, keyEvent); e.Name != "" && !has {
		l.Fields = append(l.Fields, toUIKeyValue(keyEvent, model.StringValue(e.Name)))
	}
	for _, kv := range e.Attributes {
		l.Fields = append(l.Fields, toUIKeyValue(kv.Key, kv.Value))
	}
	return l
}

// toUIKeyValue types a value the way Jaeger does: arrays and maps, which
// Jaeger cannot represent, become their JSON as a string, and so do
// non-finite floats, which JSON cannot carry.
func toUIKeyValue(key string, v model.Value) uiKeyValue {
	switch v.Type {
	case model.TypeBool:
		return uiKeyValue{Key: key, Type: "bool", Value: v.Bool()}
	case model.TypeInt:
		return uiKeyValue{Key: key, Type: "int64", Value: v.Int}
	case model.TypeDouble:
		if !math.IsNaN(v.Double) && !math.IsInf(v.Double, 0) {
			return uiKeyValue{Key: key, Type: "float64", Value: v.Double}
		}
	case model.TypeBytes:
		// encoding/json writes []byte as base64, as Jaeger does.
		return uiKeyValue{Key: key, Type: "binary", Value: []byte(v.Str)}
	}
	return uiKeyValue{Key: key, Type: "string", Value: v.AsString()}
}
