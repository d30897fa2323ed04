package clickhouse

import (
	"context"
	"fmt"

	"github.com/clew-tracing/clew/internal/storage"
)

// Dependencies returns the service edges of child spans that start in r:
// each child joined with its parent span (same trace, parent's span ID)
// when the two belong to different services. Both sides come from the
// light columns of trace_spans; with a cluster the join runs shard by
// shard, since a trace lives on one shard.
func (db *DB) Dependencies(ctx context.Context, r storage.TimeRange) ([]storage.Dependency, error) {
	if err := db.check(); err != nil {
		return nil, err
	}
	var rng sqlBuf
	rng.s("1")
	if r.Start != 0 {
		rng.s(" AND start_ns >= ").arg(r.Start)
	}
	if r.End != 0 {
		rng.s(" AND start_ns <= ").arg(r.End)
	}
	t := db.schema.q(tableTraceSpans)
	var b sqlBuf
	b.s(`SELECT parent_service, child_service, count() AS calls, countIf(child_status = 2) AS errors
FROM (
    SELECT DISTINCT trace_id, parent_span_id AS link_id, span_id, kind, service AS child_service, status_code AS child_status
    FROM ` + t + ` WHERE parent_span_id != unhex('0000000000000000') AND ` + rng.String() + `
) AS c ANY INNER JOIN (
    SELECT trace_id, span_id AS link_id, any(service) AS parent_service
    FROM ` + t + ` WHERE trace_id IN (SELECT trace_id FROM ` + t + ` WHERE parent_span_id != unhex('0000000000000000') AND ` + rng.String() + `)
    GROUP BY trace_id, link_id
) AS p USING (trace_id, link_id)
WHERE parent_service != child_service
GROUP BY parent_service, child_service
ORDER BY parent_service, child_service`)
	b.args = append(append(b.args, rng.args...), rng.args...)
	rows, err := db.conn.Query(db.queryCtx(ctx), db.sel(b.String()), b.args...)
	if err != nil {
		return nil, fmt.Errorf("dependencies: %w", err)
	}
	defer rows.Close()
	out := []storage.Dependency{}
	for rows.Next() {
		var d storage.Dependency
		if err := rows.Scan(&d.Parent, &d.Child, &d.CallCount, &d.ErrorCount); err != nil {
			return nil, fmt.Errorf("dependencies: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
