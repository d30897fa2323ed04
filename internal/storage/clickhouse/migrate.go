package clickhouse

import (
	"context"
	"fmt"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// SchemaVersion is the newest schema version this build knows.
func SchemaVersion() int {
	var s schema
	ms := s.migrations()
	return ms[len(ms)-1].version
}

// migrate brings the database to SchemaVersion. Migrations are applied in
// order, each recorded in schema_migrations after its statements ran; every
// statement is idempotent, so a step interrupted half-way, or run by two
// nodes at once, is simply run again. A database newer than this build is
// refused rather than written in an old layout.
func (db *DB) migrate(ctx context.Context) error {
	return db.migrateTo(ctx, SchemaVersion())
}

func (db *DB) migrateTo(ctx context.Context, target int) error {
	for _, st := range db.schema.migrationsTable() {
		if err := db.exec(ctx, st); err != nil {
			return fmt.Errorf("create %s: %w", tableMigrations, err)
		}
	}
	applied, err := db.appliedVersion(ctx)
	if err != nil {
		return err
	}
	if applied > SchemaVersion() {
		return fmt.Errorf("database %s has schema version %d, newer than this Clew's %d: upgrade Clew", db.schema.db, applied, SchemaVersion())
	}
	for _, m := range db.schema.migrations() {
		if m.version <= applied || m.version > target {
			continue
		}
		db.log.Info("clickhouse schema migration", "version", m.version, "what", m.description, "database", db.schema.db)
		for _, st := range m.stmts {
			if err := db.exec(ctx, st); err != nil {
				return fmt.Errorf("schema migration %d (%s): %w\n%s", m.version, m.description, err, st)
			}
		}
		if err := db.recordMigration(ctx, m); err != nil {
			return fmt.Errorf("record schema migration %d: %w", m.version, err)
		}
	}
	return nil
}

// appliedVersion returns the newest recorded migration, 0 for none.
func (db *DB) appliedVersion(ctx context.Context) (int, error) {
	var v uint32
	row := db.conn.QueryRow(db.queryCtx(ctx), "SELECT max(version) FROM "+db.schema.q(tableMigrations))
	if err := row.Scan(&v); err != nil {
		return 0, fmt.Errorf("read %s: %w", tableMigrations, err)
	}
	return int(v), nil
}

// recordMigration notes a migration as applied. NB: an INSERT … VALUES
// through Exec can hang on 18.16's native protocol; a batch with its
// columns named is what works there.
func (db *DB) recordMigration(ctx context.Context, m migration) error {
	b, err := db.conn.PrepareBatch(ch.Context(ctx, ch.WithSettings(db.settings(nil))),
		"INSERT INTO "+db.schema.q(tableMigrations)+" (version, description, applied_ns)")
	if err != nil {
		return err
	}
	defer b.Abort()
	if err := b.Append(uint32(m.version), m.description, uint64(db.opts.now().UnixNano())); err != nil {
		return err
	}
	return b.Send()
}
