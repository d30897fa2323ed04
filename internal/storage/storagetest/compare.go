package storagetest

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// DiffSpans compares two sets of spans field by field, including their
// resources, scopes, events and links, and returns a description of the
// differences, or "" when the sets are equal.
//
// The order of the spans does not matter, nor does the order of
// attributes within one attribute list (OTLP attributes are a map); the
// order of events and links does. A nil and an empty list are equal.
// Resources and scopes are compared by content, not by pointer. The sets
// are multisets: a span stored twice shows up as an extra span.
func DiffSpans(want, got []*model.Span) string {
	wantText := formatAll(want)
	gotText := formatAll(got)
	// Cancel out equal spans, counting duplicates.
	count := map[string]int{}
	for _, s := range wantText {
		count[s]++
	}
	var extra []string
	for _, s := range gotText {
		if count[s] > 0 {
			count[s]--
			continue
		}
		extra = append(extra, s)
	}
	var missing []string
	for _, s := range wantText {
		if count[s] > 0 {
			count[s]--
			missing = append(missing, s)
		}
	}
	if len(missing) == 0 && len(extra) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "want %d spans, got %d", len(want), len(got))
	if len(missing) > 0 {
		fmt.Fprintf(&b, "; %d missing or different", len(missing))
	}
	if len(extra) > 0 {
		fmt.Fprintf(&b, "; %d extra or different", len(extra))
	}
	b.WriteString(":\n")
	// Pair a missing and an extra span with the same IDs to show the
	// fields that differ.
	used := make([]bool, len(extra))
	for _, w := range missing {
		k := firstLine(w)
		j := slices.IndexFunc(extra, func(g string) bool { return firstLine(g) == k })
		for j >= 0 && used[j] {
			next := slices.IndexFunc(extra[j+1:], func(g string) bool { return firstLine(g) == k })
			if next < 0 {
				j = -1
				break
			}
			j += 1 + next
		}
		if j >= 0 {
			used[j] = true
			fmt.Fprintf(&b, "%s differs:\n%s", k, lineDiff(w, extra[j]))
			continue
		}
		fmt.Fprintf(&b, "missing %s", indent(w))
	}
	for j, g := range extra {
		if !used[j] {
			fmt.Fprintf(&b, "extra %s", indent(g))
		}
	}
	return b.String()
}

func formatAll(spans []*model.Span) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = formatSpan(s)
	}
	return out
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func indent(s string) string {
	return strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n    ") + "\n"
}

// lineDiff shows the lines of want that got lacks and the other way round.
func lineDiff(want, got string) string {
	wl := strings.Split(strings.TrimSuffix(want, "\n"), "\n")
	gl := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	have := map[string]int{}
	for _, l := range gl {
		have[l]++
	}
	var b strings.Builder
	for _, l := range wl {
		if have[l] > 0 {
			have[l]--
			continue
		}
		fmt.Fprintf(&b, "  - %s\n", strings.TrimSpace(l))
	}
	want2 := map[string]int{}
	for _, l := range wl {
		want2[l]++
	}
	for _, l := range gl {
		if want2[l] > 0 {
			want2[l]--
			continue
		}
		fmt.Fprintf(&b, "  + %s\n", strings.TrimSpace(l))
	}
	if b.Len() == 0 {
		b.WriteString("  (same lines in a different order)\n")
	}
	return b.String()
}

// formatSpan renders every field of a span, one per line, with the
// trace and span IDs first. Attribute lists are sorted by key.
func formatSpan(s *model.Span) string {
	var b strings.Builder
	fmt.Fprintf(&b, "span %s/%s\n", s.TraceID, s.SpanID)
	fmt.Fprintf(&b, "  parent %s\n", s.ParentSpanID)
	fmt.Fprintf(&b, "  traceState %q\n", s.TraceState)
	fmt.Fprintf(&b, "  flags %d\n", s.Flags)
	fmt.Fprintf(&b, "  name %q\n", s.Name)
	fmt.Fprintf(&b, "  kind %s\n", s.Kind)
	fmt.Fprintf(&b, "  start %d\n", s.StartUnixNano)
	fmt.Fprintf(&b, "  end %d\n", s.EndUnixNano)
	fmt.Fprintf(&b, "  status %s %q\n", s.StatusCode, s.StatusMessage)
	fmt.Fprintf(&b, "  dropped attributes=%d events=%d links=%d\n", s.DroppedAttributesCount, s.DroppedEventsCount, s.DroppedLinksCount)
	writeAttrs(&b, "  attr", s.Attributes)
	if r := s.Resource; r != nil {
		fmt.Fprintf(&b, "  resource service=%q schema=%q\n", r.ServiceName, r.SchemaURL)
		writeAttrs(&b, "  resource.attr", r.Attributes)
	} else {
		b.WriteString("  resource <nil>\n")
	}
	if sc := s.Scope; sc != nil {
		fmt.Fprintf(&b, "  scope name=%q version=%q schema=%q\n", sc.Name, sc.Version, sc.SchemaURL)
		writeAttrs(&b, "  scope.attr", sc.Attributes)
	} else {
		b.WriteString("  scope <nil>\n")
	}
	for i, e := range s.Events {
		fmt.Fprintf(&b, "  event[%d] time=%d name=%q dropped=%d\n", i, e.TimeUnixNano, e.Name, e.DroppedAttributesCount)
		writeAttrs(&b, fmt.Sprintf("  event[%d].attr", i), e.Attributes)
	}
	for i, l := range s.Links {
		fmt.Fprintf(&b, "  link[%d] %s/%s traceState=%q flags=%d dropped=%d\n", i, l.TraceID, l.SpanID, l.TraceState, l.Flags, l.DroppedAttributesCount)
		writeAttrs(&b, fmt.Sprintf("  link[%d].attr", i), l.Attributes)
	}
	return b.String()
}

func writeAttrs(b *strings.Builder, prefix string, kvs []model.KeyValue) {
	for _, kv := range sortedKVs(kvs) {
		fmt.Fprintf(b, "%s %s=%s\n", prefix, strconv.Quote(kv.Key), formatValue(kv.Value))
	}
}

func sortedKVs(kvs []model.KeyValue) []model.KeyValue {
	s := slices.Clone(kvs)
	slices.SortStableFunc(s, func(a, b model.KeyValue) int { return cmp.Compare(a.Key, b.Key) })
	return s
}

// formatValue renders a value with its type, exactly: doubles keep every
// bit, maps are sorted by key.
func formatValue(v model.Value) string {
	switch v.Type {
	case model.TypeEmpty:
		return "empty"
	case model.TypeString:
		return "string:" + strconv.Quote(v.Str)
	case model.TypeBool:
		return "bool:" + strconv.FormatBool(v.Bool())
	case model.TypeInt:
		return "int:" + strconv.FormatInt(v.Int, 10)
	case model.TypeDouble:
		return "double:" + strconv.FormatFloat(v.Double, 'g', -1, 64)
	case model.TypeBytes:
		return "bytes:" + strconv.Quote(v.Str)
	case model.TypeArray:
		parts := make([]string, len(v.Array))
		for i, e := range v.Array {
			parts[i] = formatValue(e)
		}
		return "array:[" + strings.Join(parts, ", ") + "]"
	case model.TypeMap:
		kvs := sortedKVs(v.Map)
		parts := make([]string, len(kvs))
		for i, kv := range kvs {
			parts[i] = strconv.Quote(kv.Key) + "=" + formatValue(kv.Value)
		}
		return "map:{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprintf("type%d", v.Type)
}

// queryString renders a query for failure messages.
func queryString(q *storage.Query) string {
	var b strings.Builder
	b.WriteString("{")
	for i, c := range q.Conditions {
		if i > 0 {
			b.WriteString(" && ")
		}
		b.WriteString(c.String())
	}
	fmt.Fprintf(&b, "} range=[%d, %d] limit=%d", q.Range.Start, q.Range.End, q.Limit)
	return b.String()
}

// cloneSpans deep-copies spans, keeping resources and scopes shared
// between the copies where they were shared between the originals.
func cloneSpans(spans []*model.Span) []*model.Span {
	res := map[*model.Resource]*model.Resource{}
	scopes := map[*model.Scope]*model.Scope{}
	out := make([]*model.Span, len(spans))
	for i, s := range spans {
		c := *s
		c.Attributes = cloneKVs(s.Attributes)
		if s.Events != nil {
			c.Events = make([]model.Event, len(s.Events))
			for j, e := range s.Events {
				e.Attributes = cloneKVs(e.Attributes)
				c.Events[j] = e
			}
		}
		if s.Links != nil {
			c.Links = make([]model.Link, len(s.Links))
			for j, l := range s.Links {
				l.Attributes = cloneKVs(l.Attributes)
				c.Links[j] = l
			}
		}
		if r := s.Resource; r != nil {
			if res[r] == nil {
				rc := *r
				rc.Attributes = cloneKVs(r.Attributes)
				res[r] = &rc
			}
			c.Resource = res[r]
		}
		if sc := s.Scope; sc != nil {
			if scopes[sc] == nil {
				scc := *sc
				scc.Attributes = cloneKVs(sc.Attributes)
				scopes[sc] = &scc
			}
			c.Scope = scopes[sc]
		}
		out[i] = &c
	}
	return out
}

func cloneKVs(kvs []model.KeyValue) []model.KeyValue {
	if kvs == nil {
		return nil
	}
	out := make([]model.KeyValue, len(kvs))
	for i, kv := range kvs {
		out[i] = model.KeyValue{Key: kv.Key, Value: cloneValue(kv.Value)}
	}
	return out
}

func cloneValue(v model.Value) model.Value {
	if v.Array != nil {
		a := make([]model.Value, len(v.Array))
		for i, e := range v.Array {
			a[i] = cloneValue(e)
		}
		v.Array = a
	}
	if v.Map != nil {
		v.Map = cloneKVs(v.Map)
	}
	return v
}
