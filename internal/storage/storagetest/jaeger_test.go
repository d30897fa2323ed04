package storagetest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/storage"
)

func TestTagString(t *testing.T) {
	f := func(raw, want string) {
		t.Helper()
		got, err := tagString(json.RawMessage(raw))
		if err != nil || got != want {
			t.Errorf("tagString(%s) = %q, %v; want %q", raw, got, err, want)
		}
	}
	f(`"sameplacevalue"`, "sameplacevalue")
	f(`123`, "123")
	f(`72.5`, "72.5")
	f(`1e3`, "1000")
	f(`true`, "true")
	f(`false`, "false")
	if _, err := tagString(json.RawMessage(`[1]`)); err == nil {
		t.Error("an array tag was accepted")
	}
}

func TestFindConformanceDir(t *testing.T) {
	dir := t.TempDir()
	fx := filepath.Join(dir, "jaeger-storage")
	if err := os.MkdirAll(fx, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(fx, "queries.json"), []byte("[]"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, env := range []string{dir, fx} {
		t.Setenv(EnvConformanceDir, env)
		got, err := findConformanceDir()
		if err != nil || got != fx {
			t.Errorf("$%s=%s: got %q, %v; want %q", EnvConformanceDir, env, got, err, fx)
		}
	}
	t.Setenv(EnvConformanceDir, filepath.Join(dir, "nothing"))
	if _, err := findConformanceDir(); err == nil {
		t.Error("a directory without queries.json was accepted")
	}
}

// TestJaegerFixturesLoad checks the loading and time shift when the
// fixtures are present (the suite itself skips or fails without them).
func TestJaegerFixturesLoad(t *testing.T) {
	dir, err := findConformanceDir()
	if err != nil {
		t.Skip(err)
	}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	fx, err := loadJaegerFixtures(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(fx.queries) != 25 {
		t.Errorf("got %d queries, want 25", len(fx.queries))
	}
	lo, hi := uint64(now.Add(-48*time.Hour).UnixNano()), uint64(now.Add(-time.Hour).UnixNano())
	for id, spans := range fx.traces {
		for _, s := range spans {
			if s.StartUnixNano < lo || s.StartUnixNano > hi {
				t.Errorf("trace %s: span starts at %s, not within the two days before now", id, time.Unix(0, int64(s.StartUnixNano)).UTC())
			}
			if s.StartUnixNano%1000 != 0 {
				t.Errorf("trace %s: shifting lost the microsecond alignment", id)
			}
		}
	}
	for i := range fx.queries {
		q, err := fx.query(&fx.queries[i])
		if err != nil {
			t.Fatalf("query %d: %v", i, err)
		}
		if q.Range.End > hi || q.Range.Start < lo {
			t.Errorf("query %d: range %v not shifted near now", i, q.Range)
		}
		if i == 0 {
			// Tags sorted by key, rendered as strings, in any scope.
			want := []string{`service "query01-service"`, `.sameplacetag1 = "sameplacevalue"`, `.sameplacetag2 = "123"`, `.sameplacetag3 = "72.5"`, `.sameplacetag4 = "true"`}
			if len(q.Conditions) != len(want) {
				t.Fatalf("query 1: %d conditions, want %d", len(q.Conditions), len(want))
			}
			for j, c := range q.Conditions {
				if c.Field == storage.FieldService {
					continue
				}
				if c.String() != want[j] || c.Scope != storage.ScopeAny {
					t.Errorf("query 1 condition %d = %s, want %s", j, c, want[j])
				}
			}
		}
	}
}
