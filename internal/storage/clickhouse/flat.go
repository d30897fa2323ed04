package clickhouse

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// flatColumns are the spans-table columns flatSpan scans. The attribute
// keys are cast to plain strings: clickhouse-go cannot decode a block
// whose Array(LowCardinality(String)) column holds no element at all (a
// block of spans without attributes) from 18.16.
const flatColumns = "service, name, kind, status_code, status_message, scope_name, scope_version, start_ns, duration_ns, " +
	"attr_scopes, CAST(attr_keys, 'Array(String)'), attr_types, attr_strs"

// flatSpan is one row of the spans table, turned back into a span that
// storage.Matcher evaluates exactly as it would the stored span: every
// attribute in its scope with a value of its type that renders the same
// (all event attributes go in one event, all link attributes in one link,
// which changes no condition's outcome).
type flatSpan struct {
	service, name, statusMessage, scopeName, scopeVersion string
	kind, status                                          uint8
	start, duration                                       uint64
	scopes, types                                         []uint8
	keys, strs                                            []string
}

func (f *flatSpan) dest() []any {
	return []any{&f.service, &f.name, &f.kind, &f.status, &f.statusMessage, &f.scopeName, &f.scopeVersion,
		&f.start, &f.duration, &f.scopes, &f.keys, &f.types, &f.strs}
}

func (f *flatSpan) span() *model.Span {
	s := &model.Span{
		Name: f.name, Kind: model.SpanKind(f.kind), StatusCode: model.StatusCode(f.status), StatusMessage: f.statusMessage,
		StartUnixNano: f.start, EndUnixNano: f.start + f.duration,
		Resource: &model.Resource{ServiceName: f.service},
		Scope:    &model.Scope{Name: f.scopeName, Version: f.scopeVersion},
	}
	var event, link []model.KeyValue
	for i := range f.keys {
		if i >= len(f.scopes) || i >= len(f.types) || i >= len(f.strs) {
			break
		}
		kv := model.KeyValue{Key: f.keys[i], Value: flatValue(model.ValueType(f.types[i]&^attrNumeric), f.strs[i])}
		switch storage.AttrScope(f.scopes[i]) {
		case storage.ScopeSpan:
			s.Attributes = append(s.Attributes, kv)
		case storage.ScopeResource:
			s.Resource.Attributes = append(s.Resource.Attributes, kv)
		case storage.ScopeInstrumentation:
			s.Scope.Attributes = append(s.Scope.Attributes, kv)
		case storage.ScopeEvent:
			event = append(event, kv)
		case storage.ScopeLink:
			link = append(link, kv)
		}
	}
	if event != nil {
		s.Events = []model.Event{{Attributes: event}}
	}
	if link != nil {
		s.Links = []model.Link{{Attributes: link}}
	}
	return s
}

// flatValue rebuilds a value from its type and AsString rendering. Scalars
// come back exactly; arrays and maps come back from their JSON rendering
// with numbers as ints where they are integral, which renders the same.
func flatValue(t model.ValueType, s string) model.Value {
	switch t {
	case model.TypeString:
		return model.StringValue(s)
	case model.TypeBool:
		return model.BoolValue(s == "true")
	case model.TypeInt:
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return model.IntValue(i)
		}
	case model.TypeDouble:
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return model.DoubleValue(f)
		}
	case model.TypeBytes:
		if b, err := base64.StdEncoding.DecodeString(s); err == nil {
			return model.BytesValue(b)
		}
	case model.TypeArray, model.TypeMap:
		d := json.NewDecoder(bytes.NewReader([]byte(s)))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err == nil {
			if mv := jsonValue(v, 0); mv.Type == t {
				return mv
			}
		}
	case model.TypeEmpty:
		return model.Value{}
	}
	return model.StringValue(s)
}

func jsonValue(v any, depth int) model.Value {
	if depth > maxValueDepth {
		return model.Value{}
	}
	switch v := v.(type) {
	case string:
		return model.StringValue(v)
	case bool:
		return model.BoolValue(v)
	case json.Number:
		if i, err := strconv.ParseInt(v.String(), 10, 64); err == nil {
			return model.IntValue(i)
		}
		f, _ := strconv.ParseFloat(v.String(), 64)
		return model.DoubleValue(f)
	case []any:
		out := model.Value{Type: model.TypeArray, Array: make([]model.Value, len(v))}
		for i, e := range v {
			out.Array[i] = jsonValue(e, depth+1)
		}
		return out
	case map[string]any:
		out := model.Value{Type: model.TypeMap}
		for k, e := range v {
			out.Map = append(out.Map, model.KeyValue{Key: k, Value: jsonValue(e, depth+1)})
		}
		return out
	}
	return model.Value{}
}
