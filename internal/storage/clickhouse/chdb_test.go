//go:build chdb

// The modern dialect on a modern ClickHouse engine, in process: chDB 26.5
// (github.com/chdb-io/chdb-go loading libchdb.so from npm's
// @chdb/lib-linux-x64-gnu, a 559 MB download). Run with scripts/chdb-test.sh,
// or:
//
//	CHDB_LIB_PATH=.../libchdb.so go test -tags chdb ./internal/storage/clickhouse -run Chdb

package clickhouse

import (
	"encoding/hex"
	"fmt"
	"math"
	"os"
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
	stats := chdbQuery(t, sess, "SELECT sum(c) FROM (SELECT countMerge(calls) AS c FROM clew.operation_stats GROUP BY service, name, kind)")
	if strings.TrimSpace(stats) != strconv.Itoa(len(spans)) {
		t.Errorf("operation_stats counts %s calls, want %d", stats, len(spans))
	}
	day := time.Now().Add(-time.Hour).UTC().Format("2006-01-02")
	for _, tbl := range dataTables {
		chdbQuery(t, sess, "ALTER TABLE clew."+tbl+" DROP PARTITION '"+day+"'")
	}
	if n := strings.TrimSpace(chdbQuery(t, sess, "SELECT count() FROM clew.spans")); n != "0" {
		t.Errorf("after DROP PARTITION: %s spans", n)
	}
}
