package clickhouse

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// rollupChunkMinutes bounds the minutes one rollup insert computes, so
// that the join's memory stays that of a quarter of an hour of spans even
// when a node catches up on a backlog.
const rollupChunkMinutes = 15

// rollupLoop rolls up service edges at start and about every
// EdgeRollupInterval (see edges.go). Several Clew nodes may run it at
// once: a minute rolled up twice gets two versions of its cells, and
// reads keep the newer. The interval is jittered so that nodes started
// together drift apart and seldom repeat each other's work.
func (db *DB) rollupLoop() {
	for {
		ctx, cancel := db.loopContext(10 * time.Minute)
		start := time.Now()
		n, err := db.rollupEdges(ctx)
		cancel()
		switch {
		case err != nil && db.closed.Load():
			return
		case err != nil:
			db.metrics.rollupErrors.Inc()
			db.log.Warn("clickhouse edge rollup", "err", err, "minutes", n)
		case n > 0:
			db.log.Debug("clickhouse edge rollup", "minutes", n, "took", time.Since(start).Round(time.Millisecond))
		}
		d := time.Duration(float64(db.opts.EdgeRollupInterval) * (0.9 + 0.2*rand.Float64()))
		t := time.NewTimer(d)
		select {
		case <-db.stop:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// serverNow returns the ClickHouse server's clock in Unix nanoseconds
// (whole seconds): the clock of the marks the rollup_minutes view writes.
func (db *DB) serverNow(ctx context.Context) (uint64, error) {
	var now uint64
	if err := db.conn.QueryRow(db.queryCtx(ctx), "SELECT toUInt64(now()) * 1000000000").Scan(&now); err != nil {
		return 0, fmt.Errorf("server time: %w", err)
	}
	return now, nil
}

// rollupEdges rolls up every minute that is ready: written since its last
// rollup (or never rolled up), quiet for EdgeRollupSettle since, and over.
// It works newest first, in chunks of at most rollupChunkMinutes, and
// returns how many minutes it rolled up.
func (db *DB) rollupEdges(ctx context.Context) (int, error) {
	if err := db.check(); err != nil {
		return 0, err
	}
	now, err := db.serverNow(ctx)
	if err != nil {
		return 0, err
	}
	settle := uint64(db.opts.EdgeRollupSettle)
	b := db.rollupStateSQL(db.rollupFloor(now), maxMinute)
	rows, err := db.conn.Query(db.queryCtx(ctx), b.String(), b.args...)
	if err != nil {
		return 0, fmt.Errorf("rollup state: %w", err)
	}
	var ready []uint64
	for rows.Next() {
		var m, lw, rv uint64
		if err := rows.Scan(&m, &lw, &rv); err != nil {
			rows.Close()
			return 0, fmt.Errorf("rollup state: %w", err)
		}
		if lw+settle <= now && m+nsPerMinute <= now {
			ready = append(ready, m)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("rollup state: %w", err)
	}
	var chunks []minuteRun
	for _, r := range runsOf(ready, 0) {
		for from := r.from; from < r.to; from += rollupChunkMinutes * nsPerMinute {
			chunks = append(chunks, minuteRun{from, min(r.to, from+rollupChunkMinutes*nsPerMinute)})
		}
	}
	n := 0
	for _, c := range slices.Backward(chunks) {
		if err := db.rollupChunk(ctx, c); err != nil {
			return n, err
		}
		k := int((c.to - c.from) / nsPerMinute)
		n += k
		db.metrics.edgeMinutesRolled.Add(float64(k))
	}
	return n, nil
}

// rollupFloor returns the oldest minute the rollup considers at server
// time now: minutes that retention drops within a day are not worth a join
// (EdgeStats computes them live if asked).
func (db *DB) rollupFloor(now uint64) uint64 {
	if db.opts.Retention <= 0 {
		return 0
	}
	return now - min(now, uint64(db.opts.Retention+24*time.Hour))
}

// rollupChunk computes the edge cells of the minutes of one run with the
// live join and stores them under a version, the server's time before the
// join (plus random nanoseconds); only then does it mark the minutes rolled up at that time, so a
// reader that finds a minute marked finds its cells. A write to the run's
// minutes after the version leaves them dirty (its mark is later), so the
// next round computes them again.
func (db *DB) rollupChunk(ctx context.Context, r minuteRun) error {
	now, err := db.serverNow(ctx)
	if err != nil {
		return err
	}
	// NB: the server's clock has whole seconds; the random nanoseconds
	// keep two rollups of the same minutes in one second (two nodes) from
	// sharing a version, which readers would count twice. A write in that
	// second or later still leaves the minutes dirty: its mark is at least
	// the second, and the settle window at least a second.
	version := now + rand.Uint64N(uint64(time.Second))
	ictx := ch.Context(ctx, ch.WithSettings(db.settings(db.insertSettings(ch.Settings{
		"max_execution_time": int(db.opts.QueryTimeout / time.Second),
	}))))
	b := db.rollupSQL(r, version)
	if err := db.conn.Exec(ictx, db.sel(b.String()), b.args...); err != nil {
		return fmt.Errorf("roll up edges of %s: %w", runString(r), err)
	}
	// NB: the marks go without insert_quorum: span inserts write into
	// rollup_minutes too (through its view), and 18.16 refuses a quorum
	// insert while another one into the same table waits for its
	// replicas. The cells, inserted with the quorum, are safe before
	// their mark exists; a mark lost with a replica only means the
	// minutes are rolled up again.
	marks := db.insertSettings(nil)
	delete(marks, "insert_quorum")
	mctx := ch.Context(ctx, ch.WithSettings(db.settings(marks)))
	m := db.markRolledSQL(r, version)
	if err := db.conn.Exec(mctx, m.String(), m.args...); err != nil {
		return fmt.Errorf("mark edges of %s rolled up: %w", runString(r), err)
	}
	return nil
}

// rollupSQL returns the INSERT … SELECT that computes the edge cells of
// the run's minutes with the live join and stores them under version.
func (db *DB) rollupSQL(r minuteRun, version uint64) *sqlBuf {
	b := &sqlBuf{}
	b.s("INSERT INTO " + db.schema.q(tableEdgeMinutes) +
		" (minute_ns, parent, child, calls, errors, duration_sum, duration_min, duration_max, duration_zeros, bins, bin_counts, version)\n" +
		"SELECT minute_ns, parent_service, child_service, " + edgeAgg() + ", ").arg(version).s("\nFROM (")
	db.edgeRowsSQL(b, []minuteRun{r})
	b.s(") GROUP BY minute_ns, parent_service, child_service")
	return b
}

// markRolledSQL returns the INSERT that marks the run's minutes rolled up
// at version.
func (db *DB) markRolledSQL(r minuteRun, version uint64) *sqlBuf {
	m := &sqlBuf{}
	m.s("INSERT INTO " + db.schema.q(tableRollupMinutes) + " (minute_ns, last_write, rolled) SELECT toUInt64(").arg(r.from).
		s(" + number * 60000000000) AS minute_ns, maxState(toUInt64(0)), maxState(toUInt64(").arg(version).
		s(")) FROM numbers(").arg((r.to - r.from) / nsPerMinute).s(") GROUP BY minute_ns")
	return m
}

// runString renders a run of minutes for errors and logs.
func runString(r minuteRun) string {
	return time.Unix(0, int64(r.from)).UTC().Format(time.RFC3339) + ".." + time.Unix(0, int64(r.to)).UTC().Format(time.RFC3339)
}
