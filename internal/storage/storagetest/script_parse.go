package storagetest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// Tokenize splits a test-script line at spaces outside double quotes;
// quotes use Go syntax and may start inside a token (name="GET /"). The
// TraceQL suite's scripts share this syntax and this function.
func Tokenize(line string) ([]string, error) {
	var toks []string
	var cur strings.Builder
	inQuote, escaped, inTok := false, false, false
	for _, c := range line {
		switch {
		case escaped:
			escaped = false
		case inQuote && c == '\\':
			escaped = true
		case c == '"':
			inQuote = !inQuote
		case !inQuote && (c == ' ' || c == '\t'):
			if inTok {
				toks = append(toks, cur.String())
				cur.Reset()
				inTok = false
			}
			continue
		}
		cur.WriteRune(c)
		inTok = true
	}
	if inQuote {
		return nil, errors.New("unterminated quote")
	}
	if inTok {
		toks = append(toks, cur.String())
	}
	if len(toks) == 0 {
		return nil, errors.New("empty line")
	}
	return toks, nil
}

// ops lists the operators of key<op>value tokens, longest first.
var ops = []struct {
	s  string
	op storage.Op
}{
	{"=~", storage.OpRegex}, {"!~", storage.OpNotRegex}, {"!=", storage.OpNotEqual},
	{">=", storage.OpGreaterEqual}, {"<=", storage.OpLessEqual},
	{"=", storage.OpEqual}, {">", storage.OpGreater}, {"<", storage.OpLess},
}

// splitToken splits key<op>value; value is unquoted when it was quoted.
func splitToken(tok string) (key string, op storage.Op, opText string, value string, quoted bool, err error) {
	i := strings.IndexAny(tok, "=!<>~")
	if i <= 0 {
		return "", 0, "", "", false, fmt.Errorf("%q: want key<op>value", tok)
	}
	key, rest := tok[:i], tok[i:]
	found := false
	for _, o := range ops {
		if strings.HasPrefix(rest, o.s) {
			op, opText, value, found = o.op, o.s, rest[len(o.s):], true
			break
		}
	}
	if !found {
		return "", 0, "", "", false, fmt.Errorf("%q: unknown operator", tok)
	}
	if strings.HasPrefix(value, `"`) {
		v, uerr := strconv.Unquote(value)
		if uerr != nil {
			return "", 0, "", "", false, fmt.Errorf("%q: bad quoted value: %w", tok, uerr)
		}
		value, quoted = v, true
	}
	return key, op, opText, value, quoted, nil
}

// literal parses an attribute value: quoted → string, true/false → bool,
// integers → int, other numbers → double, anything else → string.
func literal(s string, quoted bool) model.Value {
	if quoted {
		return model.StringValue(s)
	}
	switch s {
	case "true":
		return model.BoolValue(true)
	case "false":
		return model.BoolValue(false)
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return model.IntValue(i)
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return model.DoubleValue(f)
	}
	return model.StringValue(s)
}

// offset parses a signed duration relative to the script's base time.
func (r *scriptRunner) offset(s string) (uint64, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	return unixNano(r.base.Add(d)), nil
}

// formatOffset renders a time as its offset from the base: "+1m30s".
func (r *scriptRunner) formatOffset(t uint64) string {
	d := time.Duration(int64(t) - r.base.UnixNano())
	if d >= 0 {
		return "+" + d.String()
	}
	return d.String()
}

// timeRange parses "from..to" offsets; an empty side is open.
func (r *scriptRunner) timeRange(s string) (storage.TimeRange, error) {
	from, to, ok := strings.Cut(s, "..")
	if !ok {
		return storage.TimeRange{}, fmt.Errorf("range %q: want from..to", s)
	}
	var tr storage.TimeRange
	var err error
	if from != "" {
		if tr.Start, err = r.offset(from); err != nil {
			return tr, err
		}
	}
	if to != "" {
		if tr.End, err = r.offset(to); err != nil {
			return tr, err
		}
	}
	return tr, nil
}

// parseSpan builds a span from a load line; see testdata/README.md.
func (r *scriptRunner) parseSpan(line string) (*model.Span, error) {
	toks, err := Tokenize(line)
	if err != nil {
		return nil, err
	}
	s := &model.Span{}
	var (
		service, scopeName, scopeVersion string
		resAttrs, scopeAttrs             []model.KeyValue
		start                            = unixNano(r.base)
		end                              uint64
		dur                              = time.Millisecond
		haveTrace, haveSpan              bool
	)
	type eventAt struct {
		ev     model.Event
		offset string // "" for the span's start
	}
	var events []eventAt
	for _, tok := range toks {
		key, op, _, val, quoted, err := splitToken(tok)
		if err != nil {
			return nil, err
		}
		if op != storage.OpEqual {
			return nil, fmt.Errorf("%q: spans take key=value", tok)
		}
		switch {
		case key == "trace":
			if s.TraceID, err = model.ParseTraceID(val); err != nil {
				return nil, err
			}
			haveTrace = true
		case key == "span":
			if s.SpanID, err = model.ParseSpanID(val); err != nil {
				return nil, err
			}
			haveSpan = true
		case key == "parent":
			if s.ParentSpanID, err = model.ParseSpanID(val); err != nil {
				return nil, err
			}
		case key == "service":
			service = val
		case key == "name":
			s.Name = val
		case key == "kind":
			k, ok := model.ParseSpanKind(val)
			if !ok {
				return nil, fmt.Errorf("unknown kind %q", val)
			}
			s.Kind = k
		case key == "status":
			c, ok := parseStatus(val)
			if !ok {
				return nil, fmt.Errorf("unknown status %q", val)
			}
			s.StatusCode = c
		case key == "msg":
			s.StatusMessage = val
		case key == "start":
			if start, err = r.offset(val); err != nil {
				return nil, err
			}
		case key == "end":
			if end, err = r.offset(val); err != nil {
				return nil, err
			}
		case key == "dur":
			if dur, err = time.ParseDuration(val); err != nil {
				return nil, err
			}
		case key == "scope":
			scopeName = val
		case key == "version":
			scopeVersion = val
		case key == "event":
			name, at, _ := strings.Cut(val, "@")
			events = append(events, eventAt{ev: model.Event{Name: name}, offset: at})
		case key == "link":
			tid, sid, ok := strings.Cut(val, ":")
			if !ok {
				return nil, fmt.Errorf("link %q: want trace:span", val)
			}
			l := model.Link{}
			if l.TraceID, err = model.ParseTraceID(tid); err != nil {
				return nil, err
			}
			if l.SpanID, err = model.ParseSpanID(sid); err != nil {
				return nil, err
			}
			s.Links = append(s.Links, l)
		default:
			scope, name, ok := strings.Cut(key, ".")
			if !ok || name == "" {
				return nil, fmt.Errorf("unknown span field %q", key)
			}
			kv := model.KeyValue{Key: name, Value: literal(val, quoted)}
			switch scope {
			case "span":
				s.Attributes = append(s.Attributes, kv)
			case "resource":
				resAttrs = append(resAttrs, kv)
			case "instrumentation":
				scopeAttrs = append(scopeAttrs, kv)
			case "event":
				if len(events) == 0 {
					events = append(events, eventAt{})
				}
				e := &events[len(events)-1].ev
				e.Attributes = append(e.Attributes, kv)
			case "link":
				if len(s.Links) == 0 {
					return nil, fmt.Errorf("%s before link=trace:span", key)
				}
				l := &s.Links[len(s.Links)-1]
				l.Attributes = append(l.Attributes, kv)
			default:
				return nil, fmt.Errorf("unknown attribute scope %q in %q", scope, key)
			}
		}
	}
	if !haveTrace || !haveSpan {
		return nil, errors.New("a span needs trace= and span=")
	}
	s.StartUnixNano = start
	if end == 0 {
		end = start + uint64(dur)
	}
	s.EndUnixNano = end
	for _, e := range events {
		e.ev.TimeUnixNano = start
		if e.offset != "" {
			if e.ev.TimeUnixNano, err = r.offset(e.offset); err != nil {
				return nil, err
			}
		}
		s.Events = append(s.Events, e.ev)
	}
	s.Resource = r.resource(service, resAttrs)
	s.Scope = r.scope(scopeName, scopeVersion, scopeAttrs)
	return s, model.Validate(s)
}

func parseStatus(s string) (model.StatusCode, bool) {
	for _, c := range []model.StatusCode{model.StatusUnset, model.StatusOK, model.StatusError} {
		if c.String() == s {
			return c, true
		}
	}
	return 0, false
}

// resource returns the shared resource with this content.
func (r *scriptRunner) resource(service string, attrs []model.KeyValue) *model.Resource {
	if service != "" {
		attrs = append([]model.KeyValue{{Key: "service.name", Value: model.StringValue(service)}}, attrs...)
	}
	key := service + "\x00" + kvKey(attrs)
	if res, ok := r.resources[key]; ok {
		return res
	}
	res := &model.Resource{ServiceName: service, Attributes: attrs}
	r.resources[key] = res
	return res
}

// scope returns the shared instrumentation scope with this content.
func (r *scriptRunner) scope(name, version string, attrs []model.KeyValue) *model.Scope {
	key := name + "\x00" + version + "\x00" + kvKey(attrs)
	if sc, ok := r.scopes[key]; ok {
		return sc
	}
	sc := &model.Scope{Name: name, Version: version, Attributes: attrs}
	r.scopes[key] = sc
	return sc
}

func kvKey(kvs []model.KeyValue) string {
	var b strings.Builder
	for _, kv := range kvs {
		b.WriteString(strconv.Quote(kv.Key) + "=" + formatValue(kv.Value) + ";")
	}
	return b.String()
}

// intrinsics maps the find command's field names to query fields.
var intrinsics = map[string]storage.Field{
	"service":       storage.FieldService,
	"name":          storage.FieldName,
	"kind":          storage.FieldKind,
	"status":        storage.FieldStatus,
	"statusMessage": storage.FieldStatusMessage,
	"duration":      storage.FieldDuration,
	"scopeName":     storage.FieldScopeName,
	"scopeVersion":  storage.FieldScopeVersion,
}

// condition parses one condition of the find command.
func condition(tok string) (storage.Condition, error) {
	key, op, opText, val, quoted, err := splitToken(tok)
	if err != nil {
		return storage.Condition{}, err
	}
	c := storage.Condition{Op: op}
	if f, ok := intrinsics[key]; ok {
		c.Field = f
		switch {
		case op == storage.OpRegex || op == storage.OpNotRegex:
			c.Value = model.StringValue(val)
		case f == storage.FieldKind && !quoted:
			k, ok := model.ParseSpanKind(val)
			if !ok {
				return c, fmt.Errorf("unknown kind %q", val)
			}
			c.Value = model.IntValue(int64(k))
		case f == storage.FieldStatus && !quoted:
			code, ok := parseStatus(val)
			if !ok {
				return c, fmt.Errorf("unknown status %q", val)
			}
			c.Value = model.IntValue(int64(code))
		case f == storage.FieldDuration && !quoted:
			d, err := time.ParseDuration(val)
			if err != nil {
				return c, err
			}
			c.Value = model.IntValue(int64(d))
		default:
			c.Value = model.StringValue(val)
		}
		return c, nil
	}
	scope, name, ok := strings.Cut(key, ".")
	if !ok || name == "" {
		return c, fmt.Errorf("unknown field %q", key)
	}
	c.Field, c.Key = storage.FieldAttribute, name
	if c.Scope, ok = storage.ParseAttrScope(scope); !ok {
		return c, fmt.Errorf("unknown attribute scope %q", scope)
	}
	if val == "nil" && !quoted {
		// TraceQL: span.x != nil means the attribute exists.
		switch opText {
		case "!=":
			c.Op = storage.OpExists
		case "=":
			c.Op = storage.OpNotExists
		default:
			return c, fmt.Errorf("%q: nil compares only with = and !=", tok)
		}
		return c, nil
	}
	if op == storage.OpRegex || op == storage.OpNotRegex {
		c.Value = model.StringValue(val)
	} else {
		c.Value = literal(val, quoted)
	}
	return c, nil
}

// quoteIfNeeded quotes names that would not read back as one token.
func quoteIfNeeded(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\"\\,:=()") {
		return strconv.Quote(s)
	}
	return s
}

// shortID renders a trace ID in hex without leading zeros.
func shortID(id model.TraceID) string {
	s := strings.TrimLeft(id.String(), "0")
	if s == "" {
		return "0"
	}
	return s
}

func shortSpanID(id model.SpanID) string {
	s := strings.TrimLeft(id.String(), "0")
	if s == "" {
		return "0"
	}
	return s
}
