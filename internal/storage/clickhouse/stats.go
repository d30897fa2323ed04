package clickhouse

import (
	"context"
	"fmt"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// OperationStat is one operation's rate, errors and duration (RED) over a
// time range, read from the per-minute aggregates that a materialized view
// keeps, not from the spans.
type OperationStat struct {
	Service string
	Name    string
	Kind    model.SpanKind
	Calls   uint64
	Errors  uint64
	// DurationSum is the sum of the spans' durations in ns; the quantiles
	// are estimates (ClickHouse's quantiles, reservoir-sampled).
	DurationSum             uint64
	P50, P90, P99           float64
	FirstMinute, LastMinute uint64 // Unix ns of the first and last minute with calls
}

// StatsQuery selects operation statistics. The range is rounded out to
// whole minutes; Service, when set, keeps only that service.
type StatsQuery struct {
	Range   storage.TimeRange
	Service string
}

// OperationStats returns the RED statistics of every operation with calls
// in the range, sorted by service, name and kind.
func (db *DB) OperationStats(ctx context.Context, q StatsQuery) ([]OperationStat, error) {
	if err := db.check(); err != nil {
		return nil, err
	}
	var b sqlBuf
	b.s(`SELECT service, name, kind, countMerge(calls), sumMerge(errors), sumMerge(duration_sum),
    quantilesMerge(0.5, 0.9, 0.99)(duration_quantiles), min(minute_ns), max(minute_ns)
FROM ` + db.schema.q(tableOpStats) + ` WHERE 1`)
	if q.Range.Start != 0 {
		b.s(" AND minute_ns >= ").arg(q.Range.Start / nsPerMinute * nsPerMinute)
	}
	if q.Range.End != 0 {
		b.s(" AND minute_ns <= ").arg(q.Range.End)
	}
	if q.Service != "" {
		b.s(" AND service = ").arg(q.Service)
	}
	b.s(" GROUP BY service, name, kind ORDER BY service, name, kind")
	rows, err := db.conn.Query(db.queryCtx(ctx), b.String(), b.args...)
	if err != nil {
		return nil, fmt.Errorf("operation stats: %w", err)
	}
	defer rows.Close()
	out := []OperationStat{}
	for rows.Next() {
		var o OperationStat
		var kind uint8
		var qs []float64
		if err := rows.Scan(&o.Service, &o.Name, &kind, &o.Calls, &o.Errors, &o.DurationSum, &qs, &o.FirstMinute, &o.LastMinute); err != nil {
			return nil, fmt.Errorf("operation stats: %w", err)
		}
		o.Kind = model.SpanKind(kind)
		if len(qs) == 3 {
			o.P50, o.P90, o.P99 = qs[0], qs[1], qs[2]
		}
		out = append(out, o)
	}
	return out, rows.Err()
}
