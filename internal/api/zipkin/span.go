package zipkin

import (
	"encoding/json"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/query"
)

// zSpan is a Zipkin v2 span. Times are µs since the epoch.
type zSpan struct {
	TraceID        string            `json:"traceId"`
	ParentID       string            `json:"parentId,omitempty"`
	ID             string            `json:"id"`
	Kind           string            `json:"kind,omitempty"`
	Name           string            `json:"name,omitempty"`
	Timestamp      uint64            `json:"timestamp,omitempty"`
	Duration       uint64            `json:"duration,omitempty"`
	LocalEndpoint  *zEndpoint        `json:"localEndpoint,omitempty"`
	RemoteEndpoint *zEndpoint        `json:"remoteEndpoint,omitempty"`
	Annotations    []zAnnotation     `json:"annotations,omitempty"`
	Tags           map[string]string `json:"tags,omitempty"`
	Debug          bool              `json:"debug,omitempty"`
	Shared         bool              `json:"shared,omitempty"`
}

type zEndpoint struct {
	ServiceName string `json:"serviceName,omitempty"`
	IPv4        string `json:"ipv4,omitempty"`
	IPv6        string `json:"ipv6,omitempty"`
	Port        uint16 `json:"port,omitempty"`
}

type zAnnotation struct {
	Timestamp uint64 `json:"timestamp"`
	Value     string `json:"value"`
}

// Attributes that the Zipkin receiver stores for endpoint fields, and the
// older and newer conventions that name the same things. The first key
// present wins.
var (
	localIPKeys    = []string{"network.local.address", "net.host.ip"}
	localPortKeys  = []string{"net.host.port", "network.local.port"}
	remoteIPKeys   = []string{"network.peer.address", "net.peer.ip", "net.sock.peer.addr"}
	remotePortKeys = []string{"net.peer.port", "network.peer.port", "net.sock.peer.port"}
	// For a client, the server it called is its remote side.
	clientRemoteIPKeys   = []string{"server.address", "net.peer.name"}
	clientRemotePortKeys = []string{"server.port"}
)

// startTimeAbsent is set by the Zipkin receiver on spans that arrived
// without a timestamp (their start is then the epoch).
const startTimeAbsent = "otel.zipkin.absentField.startTime"

// toZipkinTrace renders a trace's spans in their order (by start time).
func toZipkinTrace(t *model.Trace) []zSpan {
	out := make([]zSpan, len(t.Spans))
	for i, s := range t.Spans {
		out[i] = toZipkinSpan(s)
	}
	return out
}

func toZipkinSpan(s *model.Span) zSpan {
	out := zSpan{
		TraceID: s.TraceID.ShortString(),
		ID:      s.SpanID.String(),
		Name:    s.Name,
	}
	if !s.ParentSpanID.IsZero() {
		out.ParentID = s.ParentSpanID.String()
	}
	switch s.Kind {
	case model.KindServer, model.KindClient, model.KindProducer, model.KindConsumer:
		out.Kind = strings.ToUpper(s.Kind.String())
	}
	if v, ok := model.Find(s.Attributes, startTimeAbsent); !ok || !v.Bool() {
		out.Timestamp = s.StartUnixNano / 1000
	}
	if d := s.Duration(); d > 0 {
		out.Duration = max(d/1000, 1) // Zipkin has no sub-µs spans; 0 means unknown
	}

	used := map[string]bool{startTimeAbsent: true}
	out.LocalEndpoint = endpoint(s, s.Service(), localIPKeys, localPortKeys, used)
	remoteIP, remotePort := remoteIPKeys, remotePortKeys
	if s.Kind == model.KindClient || s.Kind == model.KindProducer {
		remoteIP = append(slices.Clip(remoteIP), clientRemoteIPKeys...)
		remotePort = append(slices.Clip(remotePort), clientRemotePortKeys...)
	}
	peer := first(s.Attributes, query.PeerServiceKeys, used)
	out.RemoteEndpoint = endpoint(s, peer, remoteIP, remotePort, used)
	if out.LocalEndpoint == nil {
		// Zipkin requires a local endpoint to index the span by service.
		out.LocalEndpoint = &zEndpoint{}
	}

	out.Tags = tags(s, used)
	if len(s.Events) > 0 {
		out.Annotations = make([]zAnnotation, len(s.Events))
		for i, e := range s.Events {
			out.Annotations[i] = zAnnotation{Timestamp: e.TimeUnixNano / 1000, Value: annotationValue(e)}
		}
	}
	return out
}

// endpoint builds an endpoint from the first of each kind of attribute,
// marking the keys it used; nil when it would be empty.
func endpoint(s *model.Span, service string, ipKeys, portKeys []string, used map[string]bool) *zEndpoint {
	ep := zEndpoint{ServiceName: service}
	if ip := first(s.Attributes, ipKeys, nil); ip != "" {
		if addr, err := netip.ParseAddr(ip); err == nil {
			first(s.Attributes, ipKeys, used)
			if addr.Is4() || addr.Is4In6() {
				ep.IPv4 = addr.Unmap().String()
			} else {
				ep.IPv6 = addr.String()
			}
		}
	}
	if p := first(s.Attributes, portKeys, nil); p != "" {
		if n, err := strconv.ParseUint(p, 10, 16); err == nil && n > 0 {
			first(s.Attributes, portKeys, used)
			ep.Port = uint16(n)
		}
	}
	if ep == (zEndpoint{}) {
		return nil
	}
	return &ep
}

// first returns the value of the first of keys present in kvs, marking
// that key as used when used is not nil.
func first(kvs []model.KeyValue, keys []string, used map[string]bool) string {
	for _, k := range keys {
		if v, ok := model.Find(kvs, k); ok {
			if used != nil {
				used[k] = true
			}
			return v.AsString()
		}
	}
	return ""
}

// tags renders resource attributes (but service.name), the scope, span
// attributes not used for endpoints, and the tags the OpenTelemetry
// mapping derives from kind and status. Span attributes win over resource
// ones of the same key.
func tags(s *model.Span, used map[string]bool) map[string]string {
	t := map[string]string{}
	if s.Resource != nil {
		for _, kv := range s.Resource.Attributes {
			if kv.Key != "service.name" {
				t[kv.Key] = kv.Value.AsString()
			}
		}
	}
	if s.Scope != nil && s.Scope.Name != "" {
		t[query.TagScopeName] = s.Scope.Name
		if s.Scope.Version != "" {
			t[query.TagScopeVersion] = s.Scope.Version
		}
	}
	for _, kv := range s.Attributes {
		if !used[kv.Key] {
			t[kv.Key] = kv.Value.AsString()
		}
	}
	if s.Kind == model.KindInternal {
		t[query.TagSpanKind] = "internal" // Zipkin has no internal kind
	}
	switch s.StatusCode {
	case model.StatusOK:
		t[query.TagStatusCode] = "OK"
	case model.StatusError:
		t[query.TagStatusCode] = "ERROR"
		// Zipkin's error tag carries the message; keep one the span
		// already has (the Zipkin receiver keeps error=<message>).
		if _, has := t[query.TagError]; !has {
			t[query.TagError] = s.StatusMessage
			if s.StatusMessage == "" {
				t[query.TagError] = "true"
			}
		}
	}
	if s.StatusMessage != "" {
		t[query.TagStatusDescription] = s.StatusMessage
	}
	if s.TraceState != "" {
		t["w3c.tracestate"] = s.TraceState
	}
	if len(t) == 0 {
		return nil
	}
	return t
}

// annotationValue is the event name, or, when the event has attributes,
// "name|{attributes as JSON}|dropped count": the OpenTelemetry Collector's
// convention, which its Zipkin receiver parses back into an event.
func annotationValue(e model.Event) string {
	if len(e.Attributes) == 0 && e.DroppedAttributesCount == 0 {
		return e.Name
	}
	m := make(map[string]json.RawMessage, len(e.Attributes))
	for _, kv := range e.Attributes {
		m[kv.Key] = jsonValue(kv.Value)
	}
	b, _ := json.Marshal(m)
	return e.Name + "|" + string(b) + "|" + strconv.FormatUint(uint64(e.DroppedAttributesCount), 10)
}

// jsonValue renders an attribute value as JSON of its own type.
func jsonValue(v model.Value) json.RawMessage {
	var x any
	switch v.Type {
	case model.TypeBool:
		x = v.Bool()
	case model.TypeInt:
		x = v.Int
	case model.TypeDouble:
		x = v.Double
	default:
		x = v.AsString()
	}
	b, err := json.Marshal(x)
	if err != nil { // NaN or ±Inf
		b, _ = json.Marshal(v.AsString())
	}
	return b
}
