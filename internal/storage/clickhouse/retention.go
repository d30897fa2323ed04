package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// retentionLoop drops expired partitions at start and every
// RetentionInterval. Several Clew nodes may run it at once: dropping a
// partition that is already gone is a no-op.
func (db *DB) retentionLoop() {
	t := time.NewTicker(db.opts.RetentionInterval)
	defer t.Stop()
	for {
		ctx, cancel := db.loopContext(10 * time.Minute)
		if n, err := db.DropExpired(ctx); err != nil {
			db.log.Warn("clickhouse retention", "err", err)
		} else if n > 0 {
			db.log.Info("clickhouse retention dropped partitions", "partitions", n)
		}
		cancel()
		select {
		case <-db.stop:
			return
		case <-t.C:
		}
	}
}

// loopContext returns the context of one round of a background loop: it
// ends after timeout or when the DB closes.
func (db *DB) loopContext(timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	go func() {
		select {
		case <-db.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// DropExpired drops the day partitions whose every span started more than
// Options.Retention ago and returns how many it dropped. ALTER TABLE …
// DROP PARTITION works on every ClickHouse version (the modern dialect
// also has a TTL, which does the same in the background). With a cluster,
// the partitions are listed on every shard (cluster_parts, a Distributed
// table over system.parts) and dropped ON CLUSTER, so that a day that only
// another shard holds is dropped too; a partition listed by several
// shards is dropped once.
func (db *DB) DropExpired(ctx context.Context) (int, error) {
	if err := db.check(); err != nil {
		return 0, err
	}
	if db.opts.Retention <= 0 {
		return 0, nil
	}
	// A day partition is expired when the day has ended Retention ago.
	cutoff := db.opts.now().Add(-db.opts.Retention).UTC().Truncate(24 * time.Hour)
	tables := make([]string, len(dataTables))
	for i, t := range dataTables {
		tables[i] = t + db.schema.localSuffix()
	}
	parts := "system.parts"
	if db.opts.Cluster != "" {
		parts = db.schema.q(tableClusterParts)
	}
	rows, err := db.conn.Query(db.queryCtx(ctx),
		"SELECT DISTINCT table, partition FROM "+parts+" WHERE active AND database = ? AND has(?, table) ORDER BY table, partition",
		db.schema.db, tables)
	if err != nil {
		return 0, fmt.Errorf("list partitions: %w", err)
	}
	type part struct{ table, partition string }
	var drop []part
	for rows.Next() {
		var p part
		if err := rows.Scan(&p.table, &p.partition); err != nil {
			rows.Close()
			return 0, fmt.Errorf("list partitions: %w", err)
		}
		// 18.16 prints a Date partition as 2026-11-24, newer servers
		// may quote it.
		p.partition = strings.Trim(p.partition, "'")
		day, err := time.Parse("2006-01-02", p.partition)
		if err != nil {
			continue // not one of our day partitions
		}
		if day.Before(cutoff) {
			drop = append(drop, p)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("list partitions: %w", err)
	}
	n := 0
	for _, p := range drop {
		// NB: the partition value is a date parsed above and formatted
		// again, never text from elsewhere.
		day, _ := time.Parse("2006-01-02", p.partition)
		stmt := fmt.Sprintf("ALTER TABLE %s%s DROP PARTITION '%s'", db.schema.q(p.table), db.schema.onCluster(), day.Format("2006-01-02"))
		if err := db.exec(ctx, stmt); err != nil {
			return n, fmt.Errorf("drop partition %s of %s: %w", p.partition, p.table, err)
		}
		n++
		db.metrics.partitionsDropped.Inc()
	}
	return n, nil
}
