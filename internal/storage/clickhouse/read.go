package clickhouse

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// maxGoCandidates bounds the traces a search collects when part of its
// conditions run in Go; past it the search fails rather than use unbounded
// memory.
const maxGoCandidates = 1_000_000

// traceBounds is a trace's first span start and last span end.
type traceBounds struct {
	id         model.TraceID
	start, end uint64
}

// hexIDs renders trace IDs for the unhex(arrayJoin(?)) parameter.
func hexIDs(ids []model.TraceID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = hex.EncodeToString(id[:])
	}
	return out
}

// idSettings lets a query carry a long list of trace IDs.
var idSettings = ch.Settings{"max_query_size": 64 << 20}

func (db *DB) idQueryCtx(ctx context.Context) context.Context {
	return ch.Context(ctx, ch.WithSettings(db.settings(ch.Settings{
		"max_execution_time": int(db.opts.QueryTimeout.Seconds()),
		"max_query_size":     idSettings["max_query_size"],
	})))
}

// Trace returns every stored span of a trace. The trace index gives the
// trace's time span, which limits the read of trace_spans (ordered by
// trace ID) to the partitions of those days: no scan, with or without a
// hint.
func (db *DB) Trace(ctx context.Context, id model.TraceID, _ storage.TimeRange) (*model.Trace, error) {
	if err := db.check(); err != nil {
		return nil, err
	}
	var start, end uint64
	var n uint64
	err := db.conn.QueryRow(db.queryCtx(ctx),
		"SELECT minMerge(min_start), maxMerge(max_end), count() FROM "+db.schema.q(tableTraceIndex)+" WHERE trace_id = unhex(?)",
		hex.EncodeToString(id[:])).Scan(&start, &end, &n)
	if err != nil {
		return nil, fmt.Errorf("trace index lookup %s: %w", id, err)
	}
	if n == 0 {
		return nil, storage.ErrNotFound
	}
	rows, err := db.conn.Query(db.queryCtx(ctx),
		"SELECT span_id, kind, service, write_ns, span FROM "+db.schema.q(tableTraceSpans)+
			" WHERE trace_id = unhex(?) AND start_ns >= ? AND start_ns <= ?",
		hex.EncodeToString(id[:]), start, end)
	if err != nil {
		return nil, fmt.Errorf("read trace %s: %w", id, err)
	}
	defer rows.Close()
	type stored struct {
		writeNS uint64
		blob    string
	}
	latest := map[spanKey]stored{}
	for rows.Next() {
		var (
			spanID, service, blob string
			kind                  uint8
			writeNS               uint64
		)
		if err := rows.Scan(&spanID, &kind, &service, &writeNS, &blob); err != nil {
			return nil, fmt.Errorf("read trace %s: %w", id, err)
		}
		k := spanKey{id: model.SpanID([]byte(spanID)), kind: model.SpanKind(kind), service: service}
		if old, ok := latest[k]; !ok || writeNS >= old.writeNS {
			latest[k] = stored{writeNS, blob}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read trace %s: %w", id, err)
	}
	if len(latest) == 0 {
		return nil, storage.ErrNotFound
	}
	t := &model.Trace{ID: id, Spans: make([]*model.Span, 0, len(latest))}
	for _, st := range latest {
		s, err := decodeSpan([]byte(st.blob))
		if err != nil {
			return nil, fmt.Errorf("trace %s: %w", id, err)
		}
		t.Spans = append(t.Spans, s)
	}
	sortSpans(t.Spans)
	return t, nil
}

// spanKey identifies a stored span, as in memstore: Zipkin's shared spans
// (client and server halves) carry one span ID; kind and service tell them
// apart, while a retried export of the same span is read once.
type spanKey struct {
	id      model.SpanID
	kind    model.SpanKind
	service string
}

func sortSpans(spans []*model.Span) {
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].StartUnixNano != spans[j].StartUnixNano {
			return spans[i].StartUnixNano < spans[j].StartUnixNano
		}
		return bytes.Compare(spans[i].SpanID[:], spans[j].SpanID[:]) < 0
	})
}

// FindTraces finds the traces with a span matching q. The conditions SQL
// can evaluate select trace IDs from the spans table; the trace index
// orders them by the trace's first start (newest first) and applies the
// limit; the light columns of trace_spans give the summaries. Conditions
// SQL cannot evaluate exactly are checked in Go on the candidate spans.
func (db *DB) FindTraces(ctx context.Context, q *storage.Query) ([]storage.TraceSummary, error) {
	if err := db.check(); err != nil {
		return nil, err
	}
	bounds, err := db.find(ctx, q)
	if err != nil {
		return nil, err
	}
	return db.summaries(ctx, bounds)
}

// find returns the traces q selects, newest first, at most its limit.
func (db *DB) find(ctx context.Context, q *storage.Query) ([]traceBounds, error) {
	if err := db.check(); err != nil {
		return nil, err
	}
	if _, err := storage.NewMatcher(q); err != nil {
		return nil, err
	}
	var sub sqlBuf
	rest := whereSQL(&sub, q)
	limit := q.EffectiveLimit()
	if len(rest) == 0 {
		return db.findNewest(ctx, q, limit, func(wq *storage.Query) ([]traceBounds, error) {
			var sub sqlBuf
			sub.s("SELECT trace_id FROM " + db.schema.q(tableSpans))
			whereSQL(&sub, wq)
			return db.orderTraces(ctx, "trace_id IN ("+sub.String()+")", sub.args, limit)
		})
	}
	return db.findNewest(ctx, q, limit, func(wq *storage.Query) ([]traceBounds, error) {
		return db.findInGo(ctx, wq, rest)
	})
}

// Windows of findNewest: the first covers the newest five minutes of the
// range, each next one four times as much, and past maxFindWindow an
// unbounded range is searched whole.
const (
	firstFindWindow = 5 * time.Minute
	maxFindWindow   = 30 * 24 * time.Hour
)

// findNewest returns the newest traces with a span matching q, at most
// limit, searching the newest part of the range first: search(wq) returns
// the newest traces (at most limit, ordered) with a matching span in wq's
// range. A trace with no matching span starting in a window [t0, end]
// started before t0, so once the limit-th trace found there started at t0
// or later no trace outside can rank above it; otherwise the window grows,
// at last to the whole range. Recent matches, the common case, thus cost
// a scan of minutes instead of the range's every span.
func (db *DB) findNewest(ctx context.Context, q *storage.Query, limit int, search func(wq *storage.Query) ([]traceBounds, error)) ([]traceBounds, error) {
	anchor := q.Range.End
	if anchor == 0 {
		// NB: only the windows' anchor; the range stays open at the
		// top, so spans stamped in the future are still found.
		anchor = uint64(db.opts.now().UnixNano())
	}
	for w := firstFindWindow; ; w *= 4 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		wq := *q
		whole := true
		if t0 := anchor - min(anchor, uint64(w)); t0 > q.Range.Start && (q.Range.Start != 0 || w < maxFindWindow) {
			wq.Range.Start, whole = t0, false
		}
		out, err := search(&wq)
		if err != nil || whole {
			return out, err
		}
		if len(out) == limit && out[limit-1].start >= wq.Range.Start {
			return out, nil
		}
	}
}

var _ storage.FullTraceFinder = (*DB)(nil)

// FindTracesFull is FindTraces that also returns each trace whole, read
// with the summaries' one query over trace_spans instead of one Trace call
// per result.
func (db *DB) FindTracesFull(ctx context.Context, q *storage.Query) ([]*model.Trace, []storage.TraceSummary, error) {
	bounds, err := db.find(ctx, q)
	if err != nil || len(bounds) == 0 {
		return nil, nil, err
	}
	ids := make([]model.TraceID, len(bounds))
	lo, hi := bounds[0].start, bounds[0].end
	for i, b := range bounds {
		ids[i] = b.id
		lo, hi = min(lo, b.start), max(hi, b.end)
	}
	rows, err := db.conn.Query(db.idQueryCtx(ctx),
		"SELECT trace_id, span_id, kind, service, write_ns, span FROM "+db.schema.q(tableTraceSpans)+
			" WHERE trace_id IN (SELECT toFixedString(unhex(arrayJoin(?)), 16)) AND start_ns >= ? AND start_ns <= ?",
		hexIDs(ids), lo, hi)
	if err != nil {
		return nil, nil, fmt.Errorf("read traces: %w", err)
	}
	defer rows.Close()
	type stored struct {
		writeNS uint64
		blob    string
	}
	byTrace := make(map[model.TraceID]map[spanKey]stored, len(bounds))
	for rows.Next() {
		var (
			tid, sid, service, blob string
			kind                    uint8
			writeNS                 uint64
		)
		if err := rows.Scan(&tid, &sid, &kind, &service, &writeNS, &blob); err != nil {
			return nil, nil, fmt.Errorf("read traces: %w", err)
		}
		id := model.TraceID([]byte(tid))
		t := byTrace[id]
		if t == nil {
			t = map[spanKey]stored{}
			byTrace[id] = t
		}
		k := spanKey{model.SpanID([]byte(sid)), model.SpanKind(kind), service}
		if old, ok := t[k]; !ok || writeNS >= old.writeNS {
			t[k] = stored{writeNS, blob}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read traces: %w", err)
	}
	traces := make([]*model.Trace, 0, len(bounds))
	sums := make([]storage.TraceSummary, 0, len(bounds))
	for _, b := range bounds {
		tr := &model.Trace{ID: b.id}
		for _, st := range byTrace[b.id] {
			s, err := decodeSpan([]byte(st.blob))
			if err != nil {
				return nil, nil, fmt.Errorf("trace %s: %w", b.id, err)
			}
			tr.Spans = append(tr.Spans, s)
		}
		sortSpans(tr.Spans)
		traces = append(traces, tr)
		sums = append(sums, storage.Summarize(tr))
	}
	return traces, sums, nil
}

// orderTraces returns the traces the filter selects from the trace index,
// newest first, at most limit.
func (db *DB) orderTraces(ctx context.Context, filter string, args []any, limit int) ([]traceBounds, error) {
	query := "SELECT trace_id, minMerge(min_start) AS ts, maxMerge(max_end) AS te FROM " + db.schema.q(tableTraceIndex) +
		" WHERE " + filter + " GROUP BY trace_id ORDER BY ts DESC, trace_id LIMIT ?"
	rows, err := db.conn.Query(db.idQueryCtx(ctx), db.sel(query), append(slices.Clip(args), limit)...)
	if err != nil {
		return nil, fmt.Errorf("find traces: %w", err)
	}
	defer rows.Close()
	var out []traceBounds
	for rows.Next() {
		var id string
		var b traceBounds
		if err := rows.Scan(&id, &b.start, &b.end); err != nil {
			return nil, fmt.Errorf("find traces: %w", err)
		}
		copy(b.id[:], id)
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find traces: %w", err)
	}
	return out, nil
}

// findInGo runs the SQL part of q, checks the rest of the conditions on
// each candidate span in Go, and orders the matching traces.
func (db *DB) findInGo(ctx context.Context, q *storage.Query, rest []storage.Condition) ([]traceBounds, error) {
	m, err := storage.NewMatcher(&storage.Query{Conditions: rest})
	if err != nil {
		return nil, err
	}
	var sel sqlBuf
	sel.s("SELECT trace_id, " + flatColumns + " FROM " + db.schema.q(tableSpans))
	whereSQL(&sel, q)
	rows, err := db.conn.Query(db.queryCtx(ctx), sel.String(), sel.args...)
	if err != nil {
		return nil, fmt.Errorf("find traces: %w", err)
	}
	defer rows.Close()
	ids := map[model.TraceID]struct{}{}
	var f flatSpan
	for rows.Next() {
		var id string
		if err := rows.Scan(append([]any{&id}, f.dest()...)...); err != nil {
			return nil, fmt.Errorf("find traces: %w", err)
		}
		tid := model.TraceID([]byte(id))
		if _, ok := ids[tid]; ok {
			continue
		}
		if m.MatchConditions(f.span()) {
			ids[tid] = struct{}{}
			if len(ids) > maxGoCandidates {
				return nil, fmt.Errorf("find traces: more than %d traces match the conditions evaluated in SQL; narrow the time range", maxGoCandidates)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find traces: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	list := make([]model.TraceID, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	return db.orderTraces(ctx, "trace_id IN (SELECT toFixedString(unhex(arrayJoin(?)), 16))", []any{hexIDs(list)}, q.EffectiveLimit())
}

// summaries reads the light columns of the traces' spans and summarises
// each trace the way every backend does (storage.Summarize).
func (db *DB) summaries(ctx context.Context, bounds []traceBounds) ([]storage.TraceSummary, error) {
	if len(bounds) == 0 {
		return nil, nil
	}
	ids := make([]model.TraceID, len(bounds))
	lo, hi := bounds[0].start, bounds[0].end
	for i, b := range bounds {
		ids[i] = b.id
		lo, hi = min(lo, b.start), max(hi, b.end)
	}
	rows, err := db.conn.Query(db.idQueryCtx(ctx),
		"SELECT trace_id, span_id, parent_span_id, kind, service, name, start_ns, end_ns, status_code, write_ns FROM "+
			db.schema.q(tableTraceSpans)+" WHERE trace_id IN (SELECT toFixedString(unhex(arrayJoin(?)), 16)) AND start_ns >= ? AND start_ns <= ?",
		hexIDs(ids), lo, hi)
	if err != nil {
		return nil, fmt.Errorf("trace summaries: %w", err)
	}
	defer rows.Close()
	type entry struct {
		span    *model.Span
		writeNS uint64
	}
	byTrace := make(map[model.TraceID]map[spanKey]entry, len(bounds))
	for rows.Next() {
		var (
			tid, sid, pid, service, name string
			kind, status                 uint8
			start, end, writeNS          uint64
		)
		if err := rows.Scan(&tid, &sid, &pid, &kind, &service, &name, &start, &end, &status, &writeNS); err != nil {
			return nil, fmt.Errorf("trace summaries: %w", err)
		}
		s := &model.Span{
			TraceID: model.TraceID([]byte(tid)), SpanID: model.SpanID([]byte(sid)), ParentSpanID: model.SpanID([]byte(pid)),
			Name: name, Kind: model.SpanKind(kind), StartUnixNano: start, EndUnixNano: end,
			StatusCode: model.StatusCode(status), Resource: &model.Resource{ServiceName: service},
		}
		t := byTrace[s.TraceID]
		if t == nil {
			t = map[spanKey]entry{}
			byTrace[s.TraceID] = t
		}
		k := spanKey{s.SpanID, s.Kind, service}
		if old, ok := t[k]; !ok || writeNS >= old.writeNS {
			t[k] = entry{s, writeNS}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("trace summaries: %w", err)
	}
	out := make([]storage.TraceSummary, 0, len(bounds))
	for _, b := range bounds {
		t := byTrace[b.id]
		spans := make([]*model.Span, 0, len(t))
		for _, e := range t {
			spans = append(spans, e.span)
		}
		sortSpans(spans)
		out = append(out, storage.Summarize(&model.Trace{ID: b.id, Spans: spans}))
	}
	return out, nil
}
