package query

import (
	"strconv"
	"strings"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// Tag keys that Jaeger and Zipkin render from span intrinsics rather than
// from attributes (the OpenTelemetry-to-Jaeger and -Zipkin mappings). A
// user who sees "error=true" or "span.kind=server" in the UI expects to be
// able to search for it.
const (
	TagError             = "error"
	TagSpanKind          = "span.kind"
	TagStatusCode        = "otel.status_code"
	TagStatusDescription = "otel.status_description"
	TagScopeName         = "otel.scope.name"
	TagScopeVersion      = "otel.scope.version"
	TagLibraryName       = "otel.library.name"
	TagLibraryVersion    = "otel.library.version"
)

// TagFilter returns the alternatives under which a Jaeger or Zipkin tag
// filter key=value holds on a span; put it in [Search.AnyOf]. An ordinary
// key is one condition: the attribute, in any scope (span, resource,
// scope, event, link), rendered as a string, equals value. The keys above
// also match the span intrinsic they are rendered from, so that
// error=true finds spans whose status is an error.
func TagFilter(key, value string) []storage.Condition {
	attr := storage.Condition{Field: storage.FieldAttribute, Scope: storage.ScopeAny, Key: key, Op: storage.OpEqual, Value: model.StringValue(value)}
	intrinsic := func(f storage.Field, v model.Value) []storage.Condition {
		return []storage.Condition{{Field: f, Op: storage.OpEqual, Value: v}}
	}
	switch key {
	case TagError:
		if b, err := strconv.ParseBool(value); err == nil {
			if !b {
				return []storage.Condition{{Field: storage.FieldStatus, Op: storage.OpNotEqual, Value: model.IntValue(int64(model.StatusError))}}
			}
			// Zipkin keeps error=<message> as an attribute, and OTLP
			// senders may set error=true without an error status.
			return []storage.Condition{
				{Field: storage.FieldStatus, Op: storage.OpEqual, Value: model.IntValue(int64(model.StatusError))},
				attr,
			}
		}
		return []storage.Condition{attr}
	case TagSpanKind:
		if k, ok := model.ParseSpanKind(strings.ToLower(value)); ok {
			return intrinsic(storage.FieldKind, model.IntValue(int64(k)))
		}
	case TagStatusCode:
		switch strings.ToUpper(value) {
		case "ERROR":
			return intrinsic(storage.FieldStatus, model.IntValue(int64(model.StatusError)))
		case "OK":
			return intrinsic(storage.FieldStatus, model.IntValue(int64(model.StatusOK)))
		case "UNSET":
			return intrinsic(storage.FieldStatus, model.IntValue(int64(model.StatusUnset)))
		}
	case TagStatusDescription:
		return intrinsic(storage.FieldStatusMessage, model.StringValue(value))
	case TagScopeName, TagLibraryName:
		return intrinsic(storage.FieldScopeName, model.StringValue(value))
	case TagScopeVersion, TagLibraryVersion:
		return intrinsic(storage.FieldScopeVersion, model.StringValue(value))
	}
	return []storage.Condition{attr}
}

// TagExists returns the alternatives under which a span "has" the tag key,
// for Zipkin's bare annotationQuery terms such as "error".
func TagExists(key string) []storage.Condition {
	attr := storage.Condition{Field: storage.FieldAttribute, Scope: storage.ScopeAny, Key: key, Op: storage.OpExists}
	if key == TagError {
		return []storage.Condition{
			{Field: storage.FieldStatus, Op: storage.OpEqual, Value: model.IntValue(int64(model.StatusError))},
			attr,
		}
	}
	return []storage.Condition{attr}
}
