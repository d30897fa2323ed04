package traceqltest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage/storagetest"
)

// loader turns load lines into spans, sharing resources and scopes with
// equal content as SDK exports do.
type loader struct {
	base      time.Time
	resources map[string]*model.Resource
	scopes    map[string]*model.Scope
}

// value types an attribute value: quoted is a string, true/false a bool,
// an integer an int, another number a double, anything else a string.
func value(s string) (model.Value, error) {
	if strings.HasPrefix(s, `"`) {
		u, err := strconv.Unquote(s)
		if err != nil {
			return model.Value{}, fmt.Errorf("bad quoted value %s", s)
		}
		return model.StringValue(u), nil
	}
	switch s {
	case "true", "false":
		return model.BoolValue(s == "true"), nil
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return model.IntValue(i), nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return model.DoubleValue(f), nil
	}
	return model.StringValue(s), nil
}

func (l *loader) at(offset string) (uint64, error) {
	d, err := time.ParseDuration(offset)
	if err != nil {
		return 0, err
	}
	return uint64(l.base.Add(d).UnixNano()), nil
}

// span parses one load line:
//
//	trace=a span=1 [parent=0] [service=S] [name=N] [kind=K] [status=S] [msg=M]
//	[start=OFF] [dur=D | end=OFF] [scope=N] [version=V]
//	[span.K=V] [resource.K=V] [instrumentation.K=V]
//	[event=NAME[@OFF]] [event.K=V] [link=TRACE:SPAN] [link.K=V]
func (l *loader) span(line string) (*model.Span, error) {
	toks, err := storagetest.Tokenize(line)
	if err != nil {
		return nil, err
	}
	s := &model.Span{}
	var (
		service           string
		resAttrs, scAttrs []model.KeyValue
		scopeName, scVer  string
		hasScope          bool
		start             = uint64(l.base.UnixNano())
		dur               = time.Millisecond
		end               uint64
	)
	for _, tok := range toks {
		k, v, ok := strings.Cut(tok, "=")
		if !ok {
			return nil, fmt.Errorf("token %q is not key=value", tok)
		}
		switch {
		case k == "trace":
			s.TraceID, err = model.ParseTraceID(v)
		case k == "span":
			s.SpanID, err = model.ParseSpanID(v)
		case k == "parent":
			s.ParentSpanID, err = model.ParseSpanID(v)
		case k == "service":
			service = v
		case k == "name":
			s.Name, err = unquote(v)
		case k == "msg":
			s.StatusMessage, err = unquote(v)
		case k == "kind":
			var ok bool
			if s.Kind, ok = model.ParseSpanKind(v); !ok {
				err = fmt.Errorf("unknown kind %q", v)
			}
		case k == "status":
			switch v {
			case "ok":
				s.StatusCode = model.StatusOK
			case "error":
				s.StatusCode = model.StatusError
			case "unset":
			default:
				err = fmt.Errorf("unknown status %q", v)
			}
		case k == "start":
			start, err = l.at(v)
		case k == "dur":
			dur, err = time.ParseDuration(v)
		case k == "end":
			end, err = l.at(v)
		case k == "scope":
			scopeName, hasScope = v, true
		case k == "version":
			scVer, hasScope = v, true
		case k == "event":
			name, off, hasOff := strings.Cut(v, "@")
			ev := model.Event{Name: name}
			if hasOff {
				ev.TimeUnixNano, err = l.at(off)
			}
			s.Events = append(s.Events, ev)
		case k == "link":
			t, sp, _ := strings.Cut(v, ":")
			var ln model.Link
			if ln.TraceID, err = model.ParseTraceID(t); err == nil {
				ln.SpanID, err = model.ParseSpanID(sp)
			}
			s.Links = append(s.Links, ln)
		default:
			scope, key, ok := strings.Cut(k, ".")
			if !ok {
				return nil, fmt.Errorf("unknown key %q", k)
			}
			var val model.Value
			if val, err = value(v); err != nil {
				break
			}
			kv := model.KeyValue{Key: key, Value: val}
			switch scope {
			case "span":
				s.Attributes = append(s.Attributes, kv)
			case "resource":
				resAttrs = append(resAttrs, kv)
			case "instrumentation":
				scAttrs = append(scAttrs, kv)
				hasScope = true
			case "event":
				if len(s.Events) == 0 {
					s.Events = append(s.Events, model.Event{})
				}
				ev := &s.Events[len(s.Events)-1]
				ev.Attributes = append(ev.Attributes, kv)
			case "link":
				if len(s.Links) == 0 {
					return nil, errors.New("link attribute before link=")
				}
				ln := &s.Links[len(s.Links)-1]
				ln.Attributes = append(ln.Attributes, kv)
			default:
				err = fmt.Errorf("unknown attribute scope %q", scope)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", tok, err)
		}
	}
	if s.TraceID.IsZero() || s.SpanID.IsZero() {
		return nil, errors.New("trace= and span= are required")
	}
	s.StartUnixNano = start
	s.EndUnixNano = start + uint64(dur)
	if end != 0 {
		s.EndUnixNano = end
	}
	for i := range s.Events {
		if s.Events[i].TimeUnixNano == 0 {
			s.Events[i].TimeUnixNano = start
		}
	}
	if service != "" || len(resAttrs) > 0 {
		attrs := resAttrs
		if service != "" {
			attrs = append([]model.KeyValue{{Key: "service.name", Value: model.StringValue(service)}}, resAttrs...)
		}
		key := fmt.Sprint(attrs)
		if l.resources[key] == nil {
			l.resources[key] = &model.Resource{ServiceName: service, Attributes: attrs}
		}
		s.Resource = l.resources[key]
	}
	if hasScope {
		key := fmt.Sprint(scopeName, scVer, scAttrs)
		if l.scopes[key] == nil {
			l.scopes[key] = &model.Scope{Name: scopeName, Version: scVer, Attributes: scAttrs}
		}
		s.Scope = l.scopes[key]
	}
	return s, nil
}

func unquote(s string) (string, error) {
	if strings.HasPrefix(s, `"`) {
		return strconv.Unquote(s)
	}
	return s, nil
}
