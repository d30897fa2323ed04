package clickhouse

import (
	"context"
	"fmt"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// Services lists every service, from the per-operation statistics (a few
// rows per operation and minute, not the spans). Services whose spans were
// all written before schema migration 3 are not listed (the statistics
// start with it), though their traces are found.
func (db *DB) Services(ctx context.Context) ([]string, error) {
	if err := db.check(); err != nil {
		return nil, err
	}
	rows, err := db.conn.Query(db.queryCtx(ctx), "SELECT DISTINCT service FROM "+db.schema.q(tableOpMinutes)+" ORDER BY service")
	if err != nil {
		return nil, fmt.Errorf("services: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("services: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Operations lists span names with kinds, from the per-operation statistics.
func (db *DB) Operations(ctx context.Context, q storage.OperationQuery) ([]storage.Operation, error) {
	if err := db.check(); err != nil {
		return nil, err
	}
	var b sqlBuf
	b.s("SELECT DISTINCT service, name, kind FROM " + db.schema.q(tableOpMinutes) + " WHERE 1")
	if q.Service != "" {
		b.s(" AND service = ").arg(q.Service)
	}
	if q.HasKind {
		b.s(" AND kind = ").arg(uint8(q.Kind))
	}
	b.s(" ORDER BY name, kind, service")
	rows, err := db.conn.Query(db.queryCtx(ctx), b.String(), b.args...)
	if err != nil {
		return nil, fmt.Errorf("operations: %w", err)
	}
	defer rows.Close()
	out := []storage.Operation{}
	for rows.Next() {
		var o storage.Operation
		var kind uint8
		if err := rows.Scan(&o.Service, &o.Name, &kind); err != nil {
			return nil, fmt.Errorf("operations: %w", err)
		}
		o.Kind = model.SpanKind(kind)
		out = append(out, o)
	}
	return out, rows.Err()
}

// attrWhere writes the range and scope filters of an attribute query
// over the spans table ARRAY JOINed with its attributes (s, k, t, v).
func attrWhere(b *sqlBuf, q storage.AttributeQuery) {
	if q.Range.Start != 0 {
		b.s(" AND start_ns >= ").arg(q.Range.Start)
	}
	if q.Range.End != 0 {
		b.s(" AND start_ns <= ").arg(q.Range.End)
	}
	if q.Scope != storage.ScopeAny {
		b.s(" AND s = ").arg(uint8(q.Scope))
	}
}

// attributeNamesSQL returns the query of AttributeNames: scope and key.
func (db *DB) attributeNamesSQL(q storage.AttributeQuery) *sqlBuf {
	r := q.Range
	// Whole minutes [lo, hi): every span starting in them is in the range.
	lo := (r.Start + nsPerMinute - 1) / nsPerMinute * nsPerMinute
	hi := uint64(maxMinute + nsPerMinute)
	if r.End != 0 {
		hi = min(hi, (r.End+1)/nsPerMinute*nsPerMinute)
	}
	b := &sqlBuf{}
	b.s("SELECT DISTINCT s, k FROM (")
	if lo < hi {
		b.s("SELECT scope AS s, key AS k FROM " + db.schema.q(tableAttrNames) + " WHERE minute_ns >= ").arg(lo).s(" AND minute_ns < ").arg(hi)
		if q.Scope != storage.ScopeAny {
			b.s(" AND scope = ").arg(uint8(q.Scope))
		}
		b.s(" UNION ALL ")
	}
	// The partial minutes: the whole range when it has no whole minute.
	b.s("SELECT s, k FROM " + db.schema.q(tableSpans) + " ARRAY JOIN attr_scopes AS s, attr_keys AS k WHERE ")
	if lo < hi {
		b.s("(start_ns < ").arg(lo).s(" OR start_ns >= ").arg(hi).s(")")
	} else {
		b.s("1")
	}
	attrWhere(b, q)
	b.s(") ORDER BY k, s")
	if q.Limit > 0 {
		b.s(" LIMIT ").arg(q.Limit)
	}
	return b
}

// AttributeNames lists the attribute keys of spans in the range. The whole
// minutes of the range come from attribute_names (one row per key, scope
// and minute, kept by a materialized view), the partial minutes at its
// ends from the spans themselves, so the answer is exact without reading
// every span's attributes. Keys of spans written before schema migration
// 6 are found only in those partial minutes.
func (db *DB) AttributeNames(ctx context.Context, q storage.AttributeQuery) ([]storage.AttributeName, error) {
	if err := db.check(); err != nil {
		return nil, err
	}
	b := db.attributeNamesSQL(q)
	rows, err := db.conn.Query(db.queryCtx(ctx), b.String(), b.args...)
	if err != nil {
		return nil, fmt.Errorf("attribute names: %w", err)
	}
	defer rows.Close()
	out := []storage.AttributeName{}
	for rows.Next() {
		var n storage.AttributeName
		var scope uint8
		if err := rows.Scan(&scope, &n.Name); err != nil {
			return nil, fmt.Errorf("attribute names: %w", err)
		}
		n.Scope = storage.AttrScope(scope)
		out = append(out, n)
	}
	return out, rows.Err()
}

// AttributeValues lists the distinct values of one attribute, most
// frequent first.
func (db *DB) AttributeValues(ctx context.Context, q storage.AttributeQuery) ([]model.Value, error) {
	if err := db.check(); err != nil {
		return nil, err
	}
	var b sqlBuf
	b.s(fmt.Sprintf("SELECT bitAnd(t, %d) AS typ, v, count() AS c FROM ", attrNumeric-1) + db.schema.q(tableSpans) +
		" ARRAY JOIN attr_scopes AS s, attr_keys AS k, attr_types AS t, attr_strs AS v WHERE k = ").arg(q.Name)
	attrWhere(&b, q)
	b.s(" GROUP BY typ, v ORDER BY c DESC, v, typ")
	if q.Limit > 0 {
		b.s(" LIMIT ").arg(q.Limit)
	}
	rows, err := db.conn.Query(db.queryCtx(ctx), b.String(), b.args...)
	if err != nil {
		return nil, fmt.Errorf("attribute values: %w", err)
	}
	defer rows.Close()
	out := []model.Value{}
	for rows.Next() {
		var typ uint8
		var v string
		var n uint64
		if err := rows.Scan(&typ, &v, &n); err != nil {
			return nil, fmt.Errorf("attribute values: %w", err)
		}
		out = append(out, flatValue(model.ValueType(typ), v))
	}
	return out, rows.Err()
}
