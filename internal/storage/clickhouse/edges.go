package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/clew-tracing/clew/internal/storage"
)

// Service edges (a child span whose parent span, in the same trace,
// belongs to another service) need both spans, which usually arrive in
// different inserts, so no materialized view can count them. Instead:
//
//   - rollup_minutes is marked by a view, on every insert, with the
//     server's time for each minute the inserted spans cover (from a span's
//     start minute to its end minute, at most rollupMarkMinutes): a
//     late child dirties its own minute, a late parent the minutes in
//     which its children started.
//   - The rollup loop of every Clew node (rollup.go) recomputes, with the
//     live join below, the minutes that have been quiet for
//     Options.EdgeRollupSettle since their last write and were not rolled
//     up since, writes their cells into edge_minutes (ReplacingMergeTree:
//     a newer version of a cell replaces the older) and then marks the
//     minutes in rollup_minutes with the rollup's time.
//   - EdgeStats reads the cells of the minutes rolled up after their last
//     write (plus the settle window, which covers inserts in flight and
//     clock differences between servers) and runs the live join for the
//     others, so a read right after a write is complete.
//
// What this misses: a child whose parent arrives after the child's minute
// was rolled up, when the child started outside the parent's first
// rollupMarkMinutes minutes (after the parent ended, or an hour into a
// long parent); spans written before schema migration 4 (Dependencies,
// which always joins, still sees them); and spans whose insert took
// longer than the settle window to become visible (a replica lagging that
// long, or server clocks that far apart).

// maxEdgeRuns bounds the time ranges a live join of EdgeStats covers:
// dirty minutes are grouped into at most this many runs, joining the runs
// with the smallest gaps between them (their minutes are then computed
// live though they are rolled up, which is correct, only slower).
const maxEdgeRuns = 16

// minuteRun is a run of whole minutes [from, to) in Unix nanoseconds.
type minuteRun struct{ from, to uint64 }

// runsOf groups sorted minutes into runs, at most max of them.
func runsOf(minutes []uint64, max int) []minuteRun {
	var runs []minuteRun
	for _, m := range minutes {
		if n := len(runs); n > 0 && runs[n-1].to == m {
			runs[n-1].to = m + nsPerMinute
			continue
		}
		runs = append(runs, minuteRun{m, m + nsPerMinute})
	}
	for len(runs) > max && max > 0 {
		best := 1
		for i := 2; i < len(runs); i++ {
			if runs[i].from-runs[i-1].to < runs[best].from-runs[best-1].to {
				best = i
			}
		}
		runs[best-1].to = runs[best].to
		runs = slices.Delete(runs, best, best+1)
	}
	return runs
}

// runsSQL writes a condition that col lies in one of the runs.
func runsSQL(b *sqlBuf, col string, runs []minuteRun) {
	b.s("(")
	for i, r := range runs {
		if i > 0 {
			b.s(" OR ")
		}
		b.s("(" + col + " >= ").arg(r.from).s(" AND " + col + " < ").arg(r.to).s(")")
	}
	if len(runs) == 0 {
		b.s("0")
	}
	b.s(")")
}

// edgeRowsSQL writes a query of one row per service edge whose child span
// starts in one of the runs: minute_ns (of the child's start),
// parent_service, child_service, status (the child's status code) and
// dur (its duration in ns). It is Dependencies' join, with the child's
// start and duration, reading each child once per (trace, span ID, kind,
// service) with its latest write, as reads of traces do.
func (db *DB) edgeRowsSQL(b *sqlBuf, runs []minuteRun) {
	var rng sqlBuf
	runsSQL(&rng, "start_ns", runs)
	t := db.schema.q(tableTraceSpans)
	b.s(`SELECT intDiv(start, 60000000000) * 60000000000 AS minute_ns, parent_service, child_service, status, dur
FROM (
    SELECT trace_id, argMax(parent_span_id, write_ns) AS link_id, service AS child_service,
        argMax(status_code, write_ns) AS status, argMax(start_ns, write_ns) AS start,
        argMax(toUInt64(greatest(end_ns, start_ns) - start_ns), write_ns) AS dur
    FROM ` + t + ` WHERE parent_span_id != unhex('0000000000000000') AND ` + rng.String() + `
    GROUP BY trace_id, span_id, kind, service
) AS c ANY INNER JOIN (
    SELECT trace_id, span_id AS link_id, any(service) AS parent_service
    FROM ` + t + ` WHERE trace_id IN (SELECT trace_id FROM ` + t + ` WHERE parent_span_id != unhex('0000000000000000') AND ` + rng.String() + `)
    GROUP BY trace_id, link_id
) AS p USING (trace_id, link_id)
WHERE parent_service != child_service`)
	b.args = append(append(b.args, rng.args...), rng.args...)
}

// edgeAgg returns the aggregation of edge rows (edgeRowsSQL) into
// statistics: calls, errors, the durations' sum, extremes and zeros, and
// their sketch buckets and counts (two arrays).
func edgeAgg() string {
	return "count(), countIf(status = 2), sum(dur), min(dur), max(dur), countIf(dur = 0),\n    tupleElement(sumMap(" + binsSQL("dur") + ") AS h, 1), tupleElement(h, 2)"
}

// edgeAggText is edgeAgg with the arrays as text, as statsRow scans them.
func edgeAggText() string {
	return "count(), countIf(status = 2), sum(dur), min(dur), max(dur), countIf(dur = 0),\n    toString(tupleElement(sumMap(" + binsSQL("dur") + ") AS h, 1)), toString(tupleElement(h, 2))"
}

// EdgeStats returns per-edge statistics (storage.StatsReader): for each
// caller→callee pair of services, the calls, errors and durations of the
// child spans, in buckets of q.Step, at the resolution of whole minutes.
// Minutes rolled up since their last write are read from edge_minutes;
// the others (recent or recently written minutes) are computed with the
// live join, so the result is complete right after a write. Children whose
// parent arrives late are counted once both are stored, with the caveats
// listed at the top of this file (chiefly: not when the parent arrives
// after the child's minute was rolled up and the child started outside
// the parent's first hour). Unlike OperationStats, a span stored twice is
// counted once.
func (db *DB) EdgeStats(ctx context.Context, q storage.StatsQuery) ([]storage.EdgeStats, error) {
	if err := db.check(); err != nil {
		return nil, err
	}
	first, last := statsMinutes(q.Range)
	dirty, err := db.dirtyMinutes(ctx, first, last)
	if err != nil {
		return nil, fmt.Errorf("edge stats: %w", err)
	}
	runs := runsOf(dirty, maxEdgeRuns)
	eb := storage.NewEdgeStatsBuilder(q)
	// The two reads are independent; running them at once saves a round
	// trip and lets ClickHouse use a core for each.
	var rolled, live []statsRow
	var rolledErr, liveErr error
	var wg sync.WaitGroup
	if len(runs) > 0 {
		wg.Go(func() { live, liveErr = db.edgeRows(ctx, "live edges", db.liveEdgesSQL(q, runs)) })
	}
	rolled, rolledErr = db.edgeRows(ctx, "rolled-up edges", db.rolledEdgesSQL(q, first, last, runs))
	wg.Wait()
	if err := errors.Join(rolledErr, liveErr); err != nil {
		return nil, fmt.Errorf("edge stats: %w", err)
	}
	for _, rows := range [][]statsRow{rolled, live} {
		for i := range rows {
			r := &rows[i]
			lat, err := r.sketch()
			if err != nil {
				return nil, fmt.Errorf("edge stats: %w", err)
			}
			eb.AddBucket(r.parent, r.child, r.bucket, r.calls, r.errors, &lat)
		}
	}
	return eb.Result(), nil
}

// rollupStateSQL returns the query of the minutes in [first, last] that
// hold spans and were not rolled up after their last write and the settle
// window, with the times of both (minute_ns, lw, rv), by minute.
func (db *DB) rollupStateSQL(first, last uint64) *sqlBuf {
	b := &sqlBuf{}
	b.s("SELECT minute_ns, maxMerge(last_write) AS lw, maxMerge(rolled) AS rv FROM " + db.schema.q(tableRollupMinutes) +
		" WHERE minute_ns >= ").arg(first).s(" AND minute_ns <= ").arg(last).
		s(" GROUP BY minute_ns HAVING rv < lw + ").arg(uint64(db.opts.EdgeRollupSettle)).s(" ORDER BY minute_ns")
	return b
}

// dirtyMinutes returns, sorted, the minutes in [first, last] that hold
// spans and whose edges were not rolled up after their last write (and
// the settle window): the minutes EdgeStats computes live.
func (db *DB) dirtyMinutes(ctx context.Context, first, last uint64) ([]uint64, error) {
	b := db.rollupStateSQL(first, last)
	rows, err := db.conn.Query(db.queryCtx(ctx), b.String(), b.args...)
	if err != nil {
		return nil, fmt.Errorf("rollup state: %w", err)
	}
	defer rows.Close()
	var out []uint64
	for rows.Next() {
		var m, lw, rv uint64
		if err := rows.Scan(&m, &lw, &rv); err != nil {
			return nil, fmt.Errorf("rollup state: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// serviceFilter writes the condition of q.Service on an edge's ends.
func serviceFilter(b *sqlBuf, q storage.StatsQuery, parent, child string) {
	if q.Service != "" {
		b.s(" AND (" + parent + " = ").arg(q.Service).s(" OR " + child + " = ").arg(q.Service).s(")")
	}
}

// rolledEdgesSQL returns the query of the rolled-up cells of the minutes
// in [first, last] outside the runs, the latest version of each cell,
// summed per bucket: the columns of statsRow. The latest versions are
// found per shard (distributed_product_mode = 'local'): every version of a
// cell is on the shard its key hashes to.
func (db *DB) rolledEdgesSQL(q storage.StatsQuery, first, last uint64, runs []minuteRun) *sqlBuf {
	var where sqlBuf
	where.s("minute_ns >= ").arg(first).s(" AND minute_ns <= ").arg(last)
	if len(runs) > 0 {
		where.s(" AND NOT ")
		runsSQL(&where, "minute_ns", runs)
	}
	serviceFilter(&where, q, "parent", "child")
	t := db.schema.q(tableEdgeMinutes)
	b := &sqlBuf{}
	b.s("SELECT ")
	bucketSQL(b, q, "minute_ns")
	b.s(` AS bucket, parent, child, sum(calls), sum(errors), sum(duration_sum), min(duration_min), max(duration_max), sum(duration_zeros),
    toString(groupArrayArray(bins)), toString(groupArrayArray(bin_counts))
FROM ` + t + ` WHERE ` + where.String() + `
    AND (minute_ns, parent, child, version) IN (SELECT minute_ns, parent, child, max(version) FROM ` + t + ` WHERE ` + where.String() + ` GROUP BY minute_ns, parent, child)
GROUP BY bucket, parent, child`)
	b.args = append(append(b.args, where.args...), where.args...)
	return b
}

// liveEdgesSQL returns the query of the edges of child spans starting in
// the runs, per bucket: the columns of statsRow.
func (db *DB) liveEdgesSQL(q storage.StatsQuery, runs []minuteRun) *sqlBuf {
	b := &sqlBuf{}
	b.s("SELECT ")
	bucketSQL(b, q, "minute_ns")
	b.s(" AS bucket, parent_service, child_service, " + edgeAggText() + "\nFROM (")
	db.edgeRowsSQL(b, runs)
	b.s(") WHERE 1")
	serviceFilter(b, q, "parent_service", "child_service")
	b.s(" GROUP BY bucket, parent_service, child_service")
	return b
}

// edgeRows runs a query of bucketed edge statistics.
func (db *DB) edgeRows(ctx context.Context, what string, b *sqlBuf) ([]statsRow, error) {
	rows, err := db.conn.Query(db.queryCtx(ctx), db.sel(b.String()), b.args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []statsRow
	for rows.Next() {
		var r statsRow
		if err := rows.Scan(&r.bucket, &r.parent, &r.child, &r.calls, &r.errors, &r.sum, &r.min, &r.max, &r.zeros, &r.binsText, &r.countsText); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
