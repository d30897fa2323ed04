package clickhouse

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/sketch"
	"github.com/clew-tracing/clew/internal/storage"
)

// maxMinute is the last minute a day partition can hold: ClickHouse's Date
// ends with day 65535. It stands for an open end of a range, since a
// larger bound breaks partition pruning (toDate of a larger day number
// wraps around, and a modern server then prunes every partition).
const maxMinute = 65535*nsPerDay - nsPerMinute

// statsMinutes returns the minutes whose cells overlap r, as the first
// minute and the last one (inclusive); an open side of r is open here too
// (0 and maxMinute).
func statsMinutes(r storage.TimeRange) (first, last uint64) {
	first = min(r.Start/nsPerMinute*nsPerMinute, maxMinute)
	last = maxMinute
	if r.End != 0 {
		last = min(r.End/nsPerMinute*nsPerMinute, maxMinute)
	}
	return first, last
}

// bucketSQL writes the SQL expression of the StatsQuery bucket holding the
// cell of the minute column: the bucket of the later of the cell's start
// and the range's start (storage.StatsQuery.BucketStart), so that a cell
// overlapping the range's start counts whole in the first bucket.
func bucketSQL(b *sqlBuf, q storage.StatsQuery, minute string) {
	if q.Step <= 0 {
		b.s("toUInt64(").arg(q.Range.Start).s(")")
		return
	}
	step := uint64(q.Step)
	b.s("toUInt64(").arg(q.Range.Start).s(" + intDiv(greatest(" + minute + ", ").arg(q.Range.Start).s(") - ").arg(q.Range.Start).
		s(", ").arg(step).s(") * ").arg(step).s(")")
}

// statsRow is one bucket of statistics as the queries below return it: the
// aggregates of the durations and the counts of their sketch buckets, the
// arrays of the bucket's rows concatenated (groupArrayArray), so a sketch
// bucket may repeat.
//
// NB: the two arrays come as text ("[1,2,3]", toString of the array), which
// scanBins parses: clickhouse-go scans an array column element by element
// through reflection, which cost more than the whole query on the server.
type statsRow struct {
	bucket                uint64
	calls, errors         uint64
	sum, min, max, zeros  uint64
	binsText, countsText  string
	service, name, parent string
	child                 string
	kind                  uint8
}

// sketch rebuilds the latency sketch of the bucket from the counts that
// ClickHouse kept per sketch bucket.
func (r *statsRow) sketch() (sketch.Sketch, error) {
	bins, err := parseInts(r.binsText, func(s string) (int32, error) {
		v, err := strconv.ParseInt(s, 10, 32)
		return int32(v), err
	})
	if err != nil {
		return sketch.Sketch{}, err
	}
	counts, err := parseInts(r.countsText, func(s string) (uint64, error) { return strconv.ParseUint(s, 10, 64) })
	if err != nil {
		return sketch.Sketch{}, err
	}
	if len(bins) != len(counts) {
		return sketch.Sketch{}, fmt.Errorf("%d sketch buckets with %d counts", len(bins), len(counts))
	}
	return sketch.FromBins(r.zeros, bins, counts, float64(r.sum), float64(r.min), float64(r.max)), nil
}

// parseInts parses ClickHouse's text of an array of integers, "[1,-2,3]".
func parseInts[T any](text string, parse func(string) (T, error)) ([]T, error) {
	inner, ok := strings.CutPrefix(text, "[")
	if inner, ok = strings.CutSuffix(inner, "]"); !ok {
		return nil, fmt.Errorf("array text %q", text)
	}
	if inner == "" {
		return nil, nil
	}
	out := make([]T, 0, strings.Count(inner, ",")+1)
	for f := range strings.SplitSeq(inner, ",") {
		v, err := parse(f)
		if err != nil {
			return nil, fmt.Errorf("array text: %w", err)
		}
		out = append(out, v)
	}
	return out, nil
}

// operationStatsSQL returns the query of OperationStats: one row per
// bucket and operation, the columns of statsRow.
func (db *DB) operationStatsSQL(q storage.StatsQuery) *sqlBuf {
	first, last := statsMinutes(q.Range)
	b := &sqlBuf{}
	b.s("SELECT ")
	bucketSQL(b, q, "minute_ns")
	b.s(` AS bucket, service, name, kind, sum(calls), sum(errors), sum(duration_sum),
    minMerge(duration_min), maxMerge(duration_max), sum(duration_zeros),
    toString(groupArrayArray(durationMap.bin)), toString(groupArrayArray(durationMap.n))
FROM ` + db.schema.q(tableOpMinutes) + ` WHERE minute_ns >= `).arg(first).s(" AND minute_ns <= ").arg(last)
	if q.Service != "" {
		b.s(" AND service = ").arg(q.Service)
	}
	if q.Operation != "" {
		b.s(" AND name = ").arg(q.Operation)
	}
	b.s(" GROUP BY bucket, service, name, kind")
	return b
}

// OperationStats returns per-operation statistics (storage.StatsReader)
// from operation_minutes, which a materialized view fills on every insert:
// calls, errors and the durations' sum, extremes and counts per bucket of
// the latency sketch, per minute. ClickHouse sums the minutes of each
// bucket of q and hands over their bucket counts as they are; the
// sketches are rebuilt from them with sketch.FromBins, so quantiles are
// those of the embedded engine's sketches. A cell (a minute) overlapping the range counts whole. Spans
// stored twice (a retried export) are counted twice here, unlike in
// reads of the spans themselves.
func (db *DB) OperationStats(ctx context.Context, q storage.StatsQuery) ([]storage.OperationStats, error) {
	if err := db.check(); err != nil {
		return nil, err
	}
	b := db.operationStatsSQL(q)
	rows, err := db.conn.Query(db.queryCtx(ctx), b.String(), b.args...)
	if err != nil {
		return nil, fmt.Errorf("operation stats: %w", err)
	}
	defer rows.Close()
	sb := storage.NewStatsBuilder(q)
	for rows.Next() {
		var r statsRow
		if err := rows.Scan(&r.bucket, &r.service, &r.name, &r.kind, &r.calls, &r.errors, &r.sum, &r.min, &r.max, &r.zeros, &r.binsText, &r.countsText); err != nil {
			return nil, fmt.Errorf("operation stats: %w", err)
		}
		lat, err := r.sketch()
		if err != nil {
			return nil, fmt.Errorf("operation stats: %w", err)
		}
		sb.AddBucket(r.service, r.name, model.SpanKind(r.kind), r.bucket, r.calls, r.errors, &lat)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("operation stats: %w", err)
	}
	return sb.Result(), nil
}
