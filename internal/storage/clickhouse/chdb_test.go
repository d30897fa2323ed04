//go:build chdb

// The modern dialect on a modern ClickHouse engine, in process: chDB 26.5
// (github.com/chdb-io/chdb-go loading libchdb.so from npm's
// @chdb/lib-linux-x64-gnu, a 559 MB download). Run with scripts/chdb-test.sh,
// or:
//
//	CHDB_LIB_PATH=.../libchdb.so go test -tags chdb ./internal/storage/clickhouse -run Chdb

package clickhouse

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chdb-io/chdb-go/chdb"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/memstore"
	"github.com/clew-tracing/clew/internal/storage/storagetest"
)

// chdbQuery runs one statement and returns its TSV output.
func chdbQuery(t *testing.T, s *chdb.Session, q string) string {
	t.Helper()
	r, err := s.Query(q, "TSV")
	if err == nil {
		err = r.Error()
	}
	if err != nil {
		t.Fatalf("chdb: %v\n%s", err, q)
	}
	return r.String()
}

// literal renders a bound parameter as clickhouse-go would (enough for the
// types this package binds).
func literal(v any) string {
	switch v := v.(type) {
	case string:
		return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\x00", `\0`).Replace(v) + "'"
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case uint64:
		return strconv.FormatUint(v, 10)
	case uint8:
		return strconv.Itoa(int(v))
	case int:
		return strconv.Itoa(v)
	case []string:
		parts := make([]string, len(v))
		for i, s := range v {
			parts[i] = literal(s)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	panic(fmt.Sprintf("literal %T", v))
}

// bindLiterals replaces each ? of q with its argument.
func bindLiterals(q string, args []any) string {
	var b strings.Builder
	i := 0
	for _, r := range q {
		if r == '?' && i < len(args) {
			b.WriteString(literal(args[i]))
			i++
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func bytesLit(s string) string { return "unhex('" + hex.EncodeToString([]byte(s)) + "')" }

// insertRows inserts spans into spans_input with the row builder Write uses.
func insertRows(t *testing.T, s *chdb.Session, db string, spans []*model.Span) {
	var r row
	var vals []string
	for _, sp := range spans {
		r.set(sp)
		nums := make([]string, len(r.nums))
		for i, f := range r.nums {
			if math.IsNaN(f) {
				nums[i] = "nan"
			} else if math.IsInf(f, 0) {
				nums[i] = map[bool]string{true: "inf", false: "-inf"}[f > 0]
			} else {
				nums[i] = strconv.FormatFloat(f, 'g', -1, 64)
			}
		}
		u8 := func(a []uint8) string {
			p := make([]string, len(a))
			for i, x := range a {
				p[i] = strconv.Itoa(int(x))
			}
			return "[" + strings.Join(p, ",") + "]"
		}
		vals = append(vals, fmt.Sprintf("(%s, %s, %s, %s, %s, %d, %d, %s, %s, %s, %d, %d, %d, %s, %s, %s, %s, [%s], 1, %s)",
			bytesLit(r.traceID), bytesLit(r.spanID), bytesLit(r.parentID), literal(r.service), literal(sp.Name),
			sp.Kind, sp.StatusCode, literal(sp.StatusMessage), literal(r.scopeName), literal(r.scopeVersion),
			sp.StartUnixNano, sp.EndUnixNano, sp.Duration(), u8(r.scopes), literal(r.keys), u8(r.types), literal(r.strs),
			strings.Join(nums, ","), bytesLit(string(r.blob))))
	}
	chdbQuery(t, s, "INSERT INTO `"+db+"`.spans_input ("+strings.Join(inputColumns, ", ")+") VALUES "+strings.Join(vals, ", "))
}

// TestChdbModernDialect creates the modern schema on ClickHouse 26.5,
// inserts generated spans through the Null table and its views, runs the
// search SQL this package generates for the conformance queries and
// compares the traces found with memstore's, reads traces back from
// trace_spans, and drops a partition.
func TestChdbModernDialect(t *testing.T) {
	if os.Getenv("CHDB_LIB_PATH") == "" {
		t.Skip("set CHDB_LIB_PATH to libchdb.so (scripts/chdb-test.sh)")
	}
	sess, err := chdb.NewSession(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	version := strings.TrimSpace(chdbQuery(t, sess, "SELECT version()"))
	d, err := DialectFor(version)
	if err != nil || !d.Modern {
		t.Fatalf("chDB %s: dialect %+v, %v; want modern", version, d, err)
	}
	sc := schema{db: "clew", replicaPath: DefaultReplicaPath, dialect: d, retention: 7 * 24 * time.Hour}
	for _, st := range sc.migrationsTable() {
		chdbQuery(t, sess, st)
	}
	for _, m := range sc.migrations() {
		for _, st := range m.stmts {
			chdbQuery(t, sess, st)
		}
	}
	if q := chdbQuery(t, sess, "SELECT create_table_query FROM system.tables WHERE database = 'clew' AND name = 'spans'"); !strings.Contains(q, "TTL") || !strings.Contains(q, "CODEC") {
		t.Errorf("spans table lacks TTL or codecs: %s", q)
	}

	spans := storagetest.GenerateTraces(21, 40, 8, time.Now().Add(-time.Hour))
	insertRows(t, sess, "clew", spans)
	ref := memstore.New()
	defer ref.Close()
	ref.Write(t.Context(), spans)

	if n := strings.TrimSpace(chdbQuery(t, sess, "SELECT count() FROM clew.trace_spans")); n != strconv.Itoa(len(spans)) {
		t.Fatalf("trace_spans holds %s spans, want %d", n, len(spans))
	}
	for _, gq := range []*storage.Query{
		{}, {Limit: 5},
		{Conditions: []storage.Condition{{Field: storage.FieldService, Op: storage.OpEqual, Value: model.StringValue("frontend")}}, Limit: 100},
		{Conditions: []storage.Condition{{Field: storage.FieldAttribute, Scope: storage.ScopeSpan, Key: "http.status_code", Op: storage.OpGreaterEqual, Value: model.IntValue(300)}}, Limit: 100},
		{Conditions: []storage.Condition{{Field: storage.FieldAttribute, Key: "db.system", Op: storage.OpEqual, Value: model.StringValue("postgresql")}}, Limit: 100},
		{Conditions: []storage.Condition{{Field: storage.FieldStatus, Op: storage.OpEqual, Value: model.IntValue(int64(model.StatusError))}}, Limit: 100},
		{Conditions: []storage.Condition{
			{Field: storage.FieldAttribute, Scope: storage.ScopeSpan, Key: "rpc.service", Op: storage.OpRegex, Value: model.StringValue(`oteldemo\.(Cart|Currency)Service`)},
			{Field: storage.FieldDuration, Op: storage.OpGreater, Value: model.IntValue(int64(time.Millisecond))},
		}, Limit: 100},
		{Conditions: []storage.Condition{{Field: storage.FieldAttribute, Scope: storage.ScopeEvent, Key: "exception.type", Op: storage.OpExists}}, Limit: 100},
	} {
		var sub sqlBuf
		sub.s("SELECT trace_id FROM `clew`.`spans`")
		if rest := whereSQL(&sub, gq); len(rest) > 0 {
			t.Fatalf("BUG: %v left for Go", rest)
		}
		q := "SELECT hex(trace_id), minMerge(min_start) AS ts FROM `clew`.`trace_index` WHERE trace_id IN (" + sub.String() +
			") GROUP BY trace_id ORDER BY ts DESC, trace_id LIMIT " + strconv.Itoa(gq.EffectiveLimit())
		out := chdbQuery(t, sess, bindLiterals(q, sub.args))
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if line != "" {
				got = append(got, strings.ToLower(strings.Fields(line)[0]))
			}
		}
		want, _ := ref.FindTraces(t.Context(), gq)
		var w []string
		for _, s := range want {
			w = append(w, s.TraceID.String())
		}
		if strings.Join(got, " ") != strings.Join(w, " ") {
			t.Errorf("search %s:\n got %v\nwant %v", sub.String(), got, w)
		}
	}

	// A trace read back whole from the blobs.
	id := spans[0].TraceID
	out := chdbQuery(t, sess, "SELECT hex(span) FROM clew.trace_spans WHERE trace_id = unhex('"+hex.EncodeToString(id[:])+"')")
	var back []*model.Span
	for _, line := range strings.Fields(out) {
		b, _ := hex.DecodeString(line)
		s, err := decodeSpan(b)
		if err != nil {
			t.Fatal(err)
		}
		back = append(back, s)
	}
	if d := storagetest.DiffSpans(byTraceID(spans)[id], back); d != "" {
		t.Errorf("trace from chDB: %s", d)
	}
	checkChdbStats(t, sess, &sc, spans)
	day := time.Now().Add(-time.Hour).UTC().Format("2006-01-02")
	for _, tbl := range dataTables {
		chdbQuery(t, sess, "ALTER TABLE clew."+tbl+" DROP PARTITION '"+day+"'")
	}
	if n := strings.TrimSpace(chdbQuery(t, sess, "SELECT count() FROM clew.spans")); n != "0" {
		t.Errorf("after DROP PARTITION: %s spans", n)
	}
}

// chdbStatsRows runs a statistics query (operations when ops, else edges)
// in chDB and parses its rows.
func chdbStatsRows(t *testing.T, s *chdb.Session, b *sqlBuf, ops bool) []statsRow {
	t.Helper()
	out := chdbQuery(t, s, bindLiterals(b.String(), b.args))
	var rows []statsRow
	u := func(f string) uint64 {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			t.Fatalf("chdb: %q: %v", f, err)
		}
		return v
	}
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		var r statsRow
		r.bucket = u(f[0])
		if ops {
			r.service, r.name, r.kind = f[1], f[2], uint8(u(f[3]))
			f = f[4:]
		} else {
			r.parent, r.child = f[1], f[2]
			f = f[3:]
		}
		r.calls, r.errors, r.sum, r.min, r.max, r.zeros = u(f[0]), u(f[1]), u(f[2]), u(f[3]), u(f[4]), u(f[5])
		r.binsText, r.countsText = f[6], f[7]
		rows = append(rows, r)
	}
	return rows
}

// checkChdbStats runs the statistics SQL of OperationStats, EdgeStats
// (live, rolled up, the rollup's inserts) and AttributeNames on the modern
// engine and compares the answers with the reference's.
func checkChdbStats(t *testing.T, sess *chdb.Session, sc *schema, spans []*model.Span) {
	db := &DB{schema: *sc, opts: Options{EdgeRollupSettle: DefaultEdgeRollupSettle}}
	r := spanRangeOf(spans)
	start := r.Start / nsPerMinute * nsPerMinute
	for _, q := range []storage.StatsQuery{
		{Range: storage.TimeRange{Start: start, End: r.End}},
		{Range: storage.TimeRange{Start: start, End: r.End}, Step: time.Minute},
		{Service: "frontend", Range: storage.TimeRange{Start: start}, Step: 2 * time.Minute},
	} {
		ref := storage.NewStatsBuilder(q)
		for _, s := range spans {
			ref.AddSpan(s)
		}
		got := storage.NewStatsBuilder(q)
		for _, row := range chdbStatsRows(t, sess, db.operationStatsSQL(q), true) {
			lat, err := row.sketch()
			if err != nil {
				t.Fatal(err)
			}
			got.AddBucket(row.service, row.name, model.SpanKind(row.kind), row.bucket, row.calls, row.errors, &lat)
		}
		if d := diffEdges(opsAsEdges(got.Result()), opsAsEdges(ref.Result())); d != "" {
			t.Errorf("OperationStats(%+v) on chDB: %s", q, d)
		}
	}

	// Every minute written is dirty: nothing rolled up yet. (The spans
	// last at most seconds: their end minutes are within the run.)
	first, last := start, r.End/nsPerMinute*nsPerMinute
	state := db.rollupStateSQL(0, maxMinute)
	if n := len(strings.Fields(chdbQuery(t, sess, bindLiterals(state.String(), state.args)))) / 3; n < int((last-first)/nsPerMinute)+1 {
		t.Errorf("rollup_minutes: %d dirty minutes, want at least %d", n, (last-first)/nsPerMinute+1)
	}
	run := minuteRun{first, last + 2*nsPerMinute}
	edges := func(rows []statsRow, q storage.StatsQuery) []storage.EdgeStats {
		b := storage.NewEdgeStatsBuilder(q)
		for _, row := range rows {
			lat, err := row.sketch()
			if err != nil {
				t.Fatal(err)
			}
			b.AddBucket(row.parent, row.child, row.bucket, row.calls, row.errors, &lat)
		}
		return b.Result()
	}
	qs := []storage.StatsQuery{{Range: storage.TimeRange{Start: start}}, {Range: storage.TimeRange{Start: start}, Step: time.Minute}}
	for _, q := range qs {
		if d := diffEdges(edges(chdbStatsRows(t, sess, db.liveEdgesSQL(q, []minuteRun{run}), false), q), wantEdges(spans, q)); d != "" {
			t.Errorf("live EdgeStats(%+v) on chDB: %s", q, d)
		}
	}
	for v := range uint64(2) {
		for _, b := range []*sqlBuf{db.rollupSQL(run, 1e18+v), db.markRolledSQL(run, 2e18)} {
			chdbQuery(t, sess, bindLiterals(b.String(), b.args))
		}
	}
	if out := chdbQuery(t, sess, bindLiterals(state.String(), state.args)); strings.TrimSpace(out) != "" {
		t.Errorf("minutes still dirty after the rollup: %s", out)
	}
	for _, q := range qs {
		if d := diffEdges(edges(chdbStatsRows(t, sess, db.rolledEdgesSQL(q, first, last, nil), false), q), wantEdges(spans, q)); d != "" {
			t.Errorf("rolled-up EdgeStats(%+v) on chDB: %s", q, d)
		}
	}

	// Attribute names: whole minutes from attribute_names, partial ones
	// from the spans.
	for _, q := range []storage.AttributeQuery{
		{}, {Scope: storage.ScopeResource},
		{Range: storage.TimeRange{Start: start, End: start + 2*nsPerMinute - 1}},             // whole minutes
		{Range: storage.TimeRange{Start: (r.Start + r.End) / 2, End: r.End}},                 // a partial minute
		{Range: storage.TimeRange{Start: (r.Start + r.End) / 2, End: r.End + 3*nsPerMinute}}, // both
	} {
		b := db.attributeNamesSQL(q)
		var got []string
		for _, line := range strings.Split(chdbQuery(t, sess, bindLiterals(b.String(), b.args)), "\n") {
			if line != "" {
				got = append(got, line)
			}
		}
		seen := map[string]bool{}
		for _, s := range spans {
			if !q.Range.Contains(s.StartUnixNano) {
				continue
			}
			var rw row
			rw.set(s)
			for i, k := range rw.keys {
				if q.Scope == storage.ScopeAny || storage.AttrScope(rw.scopes[i]) == q.Scope {
					seen[fmt.Sprintf("%d\t%s", rw.scopes[i], k)] = true
				}
			}
		}
		want := slices.Collect(maps.Keys(seen))
		slices.SortFunc(want, func(a, b string) int {
			as, bs := strings.SplitN(a, "\t", 2), strings.SplitN(b, "\t", 2)
			return cmp.Or(cmp.Compare(as[1], bs[1]), cmp.Compare(as[0], bs[0]))
		})
		if !slices.Equal(got, want) {
			t.Errorf("AttributeNames(%+v) on chDB:\n got %v\nwant %v", q, got, want)
		}
	}
}

// opsAsEdges renders operation statistics as edge statistics, for
// diffEdges.
func opsAsEdges(ops []storage.OperationStats) []storage.EdgeStats {
	out := make([]storage.EdgeStats, len(ops))
	for i, o := range ops {
		out[i] = storage.EdgeStats{Parent: o.Service + "/" + o.Operation, Child: o.Kind.String(), Buckets: o.Buckets}
	}
	return out
}

// spanRangeOf returns the range of the spans' starts.
func spanRangeOf(spans []*model.Span) storage.TimeRange {
	r := storage.TimeRange{Start: math.MaxUint64}
	for _, s := range spans {
		r.Start, r.End = min(r.Start, s.StartUnixNano), max(r.End, s.StartUnixNano)
	}
	return r
}
