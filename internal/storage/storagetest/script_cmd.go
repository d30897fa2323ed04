package storagetest

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// args parses the key=value options of a command.
func (r *scriptRunner) args(toks []string, allowed ...string) (map[string]string, error) {
	m := map[string]string{}
	for _, tok := range toks {
		key, op, _, val, _, err := splitToken(tok)
		if err != nil {
			return nil, err
		}
		if op != storage.OpEqual || !slices.Contains(allowed, key) {
			return nil, fmt.Errorf("unexpected argument %q (want %s)", tok, strings.Join(allowed, ", "))
		}
		m[key] = val
	}
	return m, nil
}

func parseLimit(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	return strconv.Atoi(s)
}

// find runs a search: every token is a condition except range= and
// limit=. Each result is one line:
//
//	<trace> start=<offset> dur=<d> spans=<n> errors=<n> root=<svc>:<name> services=<svc>:<spans>/<errors>,...
//
// with noroot= instead of root= when the trace has no root span.
func (r *scriptRunner) find(toks []string) ([]string, error) {
	q := &storage.Query{}
	for _, tok := range toks {
		var err error
		switch {
		case strings.HasPrefix(tok, "range="):
			q.Range, err = r.timeRange(strings.TrimPrefix(tok, "range="))
		case strings.HasPrefix(tok, "limit="):
			q.Limit, err = strconv.Atoi(strings.TrimPrefix(tok, "limit="))
		default:
			var c storage.Condition
			c, err = condition(tok)
			q.Conditions = append(q.Conditions, c)
		}
		if err != nil {
			return nil, err
		}
	}
	res, err := r.h.FindTraces(r.t.Context(), q)
	if err != nil {
		// Error texts differ between backends; the script records only
		// that the query failed.
		r.t.Logf("FindTraces(%s): %v", queryString(q), err)
		return []string{"error"}, nil
	}
	if len(res) > q.EffectiveLimit() {
		r.t.Errorf("FindTraces(%s) returned %d traces, more than the limit %d", queryString(q), len(res), q.EffectiveLimit())
	}
	if !slices.IsSortedFunc(res, func(a, b storage.TraceSummary) int { return cmp.Compare(b.StartUnixNano, a.StartUnixNano) }) {
		r.t.Errorf("FindTraces(%s): results are not newest first: %v", queryString(q), res)
	}
	// Traces that start at the same time may come in any order.
	slices.SortStableFunc(res, func(a, b storage.TraceSummary) int {
		if c := cmp.Compare(b.StartUnixNano, a.StartUnixNano); c != 0 {
			return c
		}
		return bytes.Compare(a.TraceID[:], b.TraceID[:])
	})
	out := make([]string, len(res))
	for i, s := range res {
		out[i] = r.formatSummary(&s)
	}
	return out, nil
}

func (r *scriptRunner) formatSummary(s *storage.TraceSummary) string {
	root := "root="
	if !s.HasRoot {
		root = "noroot="
	}
	svcs := make([]string, len(s.Services))
	for i, st := range s.Services {
		svcs[i] = fmt.Sprintf("%s:%d/%d", quoteIfNeeded(st.Name), st.SpanCount, st.ErrorCount)
	}
	return fmt.Sprintf("%s start=%s dur=%s spans=%d errors=%d %s%s:%s services=%s",
		shortID(s.TraceID), r.formatOffset(s.StartUnixNano), time.Duration(s.DurationNano()),
		s.SpanCount, s.ErrorCount, root, quoteIfNeeded(s.RootService), quoteIfNeeded(s.RootName),
		strings.Join(svcs, ","))
}

// trace fetches a trace by ID, with an optional hint=from..to, and prints
// its spans by start time then span ID:
//
//	<span> parent=<span> <svc>:<name> start=<offset> dur=<d>
//
// or "not found".
func (r *scriptRunner) trace(toks []string) ([]string, error) {
	if len(toks) == 0 {
		return nil, errors.New("trace <id> [hint=from..to]")
	}
	id, err := model.ParseTraceID(toks[0])
	if err != nil {
		return nil, err
	}
	a, err := r.args(toks[1:], "hint")
	if err != nil {
		return nil, err
	}
	var hint storage.TimeRange
	if h, ok := a["hint"]; ok {
		if hint, err = r.timeRange(h); err != nil {
			return nil, err
		}
	}
	tr, err := r.h.Trace(r.t.Context(), id, hint)
	if errors.Is(err, storage.ErrNotFound) {
		return []string{"not found"}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("Trace(%s): %w", id, err)
	}
	spans := slices.Clone(tr.Spans)
	slices.SortFunc(spans, func(a, b *model.Span) int {
		if c := cmp.Compare(a.StartUnixNano, b.StartUnixNano); c != 0 {
			return c
		}
		return bytes.Compare(a.SpanID[:], b.SpanID[:])
	})
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = fmt.Sprintf("%s parent=%s %s:%s start=%s dur=%s", shortSpanID(s.SpanID), shortSpanID(s.ParentSpanID),
			quoteIfNeeded(s.Service()), quoteIfNeeded(s.Name), r.formatOffset(s.StartUnixNano), time.Duration(s.Duration()))
	}
	return out, nil
}

// services prints one service per line, in the backend's order (which
// must be sorted).
func (r *scriptRunner) services(toks []string) ([]string, error) {
	if len(toks) > 0 {
		return nil, errors.New("services takes no arguments")
	}
	svcs, err := r.h.Services(r.t.Context())
	if err != nil {
		return nil, fmt.Errorf("Services: %w", err)
	}
	out := make([]string, len(svcs))
	for i, s := range svcs {
		out[i] = quoteIfNeeded(s)
	}
	return out, nil
}

// operations [service=<svc>] [kind=<kind>] prints "<svc> <name> <kind>"
// lines. The backend must sort by name then kind; operations of different
// services with the same name and kind are printed by service.
func (r *scriptRunner) operations(toks []string) ([]string, error) {
	a, err := r.args(toks, "service", "kind")
	if err != nil {
		return nil, err
	}
	q := storage.OperationQuery{Service: a["service"]}
	if k, ok := a["kind"]; ok {
		if q.Kind, ok = model.ParseSpanKind(k); !ok {
			return nil, fmt.Errorf("unknown kind %q", k)
		}
		q.HasKind = true
	}
	ops, err := r.h.Operations(r.t.Context(), q)
	if err != nil {
		return nil, fmt.Errorf("Operations: %w", err)
	}
	byNameKind := func(a, b storage.Operation) int {
		if c := cmp.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return cmp.Compare(a.Kind, b.Kind)
	}
	if !slices.IsSortedFunc(ops, byNameKind) {
		r.t.Errorf("Operations(%+v) not sorted by name then kind: %v", q, ops)
	}
	slices.SortStableFunc(ops, func(a, b storage.Operation) int {
		if c := byNameKind(a, b); c != 0 {
			return c
		}
		return cmp.Compare(a.Service, b.Service)
	})
	out := make([]string, len(ops))
	for i, o := range ops {
		out[i] = fmt.Sprintf("%s %s %s", quoteIfNeeded(o.Service), quoteIfNeeded(o.Name), o.Kind)
	}
	return out, nil
}

// attrQuery parses scope=, name=, range= and limit= (default 1000).
func (r *scriptRunner) attrQuery(toks []string, allowed ...string) (storage.AttributeQuery, error) {
	var q storage.AttributeQuery
	a, err := r.args(toks, allowed...)
	if err != nil {
		return q, err
	}
	if s, ok := a["scope"]; ok && s != "any" {
		if q.Scope, ok = storage.ParseAttrScope(s); !ok || s == "" {
			return q, fmt.Errorf("unknown scope %q", s)
		}
	}
	q.Name = a["name"]
	if rg, ok := a["range"]; ok {
		if q.Range, err = r.timeRange(rg); err != nil {
			return q, err
		}
	}
	q.Limit, err = parseLimit(a["limit"], 1000)
	return q, err
}

func scopeName(s storage.AttrScope) string {
	if s == storage.ScopeAny {
		return "any"
	}
	return s.String()
}

// attributes [scope=<scope>] [range=from..to] [limit=n] prints
// "<scope> <name>" lines. The backend must sort by name; one name seen in
// several scopes is printed by scope.
func (r *scriptRunner) attributes(toks []string) ([]string, error) {
	q, err := r.attrQuery(toks, "scope", "range", "limit")
	if err != nil {
		return nil, err
	}
	names, err := r.h.AttributeNames(r.t.Context(), q)
	if err != nil {
		return nil, fmt.Errorf("AttributeNames: %w", err)
	}
	if len(names) > q.Limit {
		r.t.Errorf("AttributeNames(%+v) returned %d names, more than the limit", q, len(names))
	}
	if !slices.IsSortedFunc(names, func(a, b storage.AttributeName) int { return cmp.Compare(a.Name, b.Name) }) {
		r.t.Errorf("AttributeNames(%+v) not sorted by name: %v", q, names)
	}
	slices.SortStableFunc(names, func(a, b storage.AttributeName) int {
		if c := cmp.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return cmp.Compare(a.Scope, b.Scope)
	})
	out := make([]string, len(names))
	for i, n := range names {
		if q.Scope != storage.ScopeAny && n.Scope != q.Scope {
			r.t.Errorf("AttributeNames(scope %s) returned %s from scope %s", scopeName(q.Scope), n.Name, scopeName(n.Scope))
		}
		out[i] = scopeName(n.Scope) + " " + quoteIfNeeded(n.Name)
	}
	return out, nil
}

// values name=<attr> [scope=<scope>] [range=from..to] [limit=n] prints the
// distinct values, one "<type>:<value>" per line, sorted: the contract
// leaves their order to the backend.
func (r *scriptRunner) values(toks []string) ([]string, error) {
	q, err := r.attrQuery(toks, "name", "scope", "range", "limit")
	if err != nil {
		return nil, err
	}
	if q.Name == "" {
		return nil, errors.New("values needs name=")
	}
	vals, err := r.h.AttributeValues(r.t.Context(), q)
	if err != nil {
		return nil, fmt.Errorf("AttributeValues: %w", err)
	}
	if len(vals) > q.Limit {
		r.t.Errorf("AttributeValues(%+v) returned %d values, more than the limit", q, len(vals))
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = formatValue(v)
	}
	slices.Sort(out)
	return out, nil
}

// dependencies [range=from..to] prints "<parent> -> <child> calls=<n>
// errors=<n>" lines in the backend's order (which must be sorted).
func (r *scriptRunner) dependencies(toks []string) ([]string, error) {
	a, err := r.args(toks, "range")
	if err != nil {
		return nil, err
	}
	var rg storage.TimeRange
	if s, ok := a["range"]; ok {
		if rg, err = r.timeRange(s); err != nil {
			return nil, err
		}
	}
	deps, err := r.h.Dependencies(r.t.Context(), rg)
	if err != nil {
		return nil, fmt.Errorf("Dependencies: %w", err)
	}
	out := make([]string, len(deps))
	for i, d := range deps {
		out[i] = fmt.Sprintf("%s -> %s calls=%d errors=%d", quoteIfNeeded(d.Parent), quoteIfNeeded(d.Child), d.CallCount, d.ErrorCount)
	}
	return out, nil
}
