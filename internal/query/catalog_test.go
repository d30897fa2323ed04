package query_test

import (
	"context"
	"slices"
	"testing"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/query"
	"github.com/clew-tracing/clew/internal/storage"
)

func TestCatalog(t *testing.T) {
	q := newService(t, fixture(t), nil)
	ctx := context.Background()
	svcs, err := q.Services(ctx)
	if err != nil || !slices.Equal(svcs, []string{"api", "frontend"}) {
		t.Errorf("Services: %v, %v", svcs, err)
	}
	ops, err := q.Operations(ctx, storage.OperationQuery{Service: "frontend"})
	if err != nil || len(ops) != 2 || ops[0].Name != "GET /" || ops[1].Name != "GET /health" {
		t.Errorf("Operations: %v, %v", ops, err)
	}
	if _, err := q.Operations(ctx, storage.OperationQuery{Kind: 9, HasKind: true}); !query.IsBadRequest(err) {
		t.Errorf("Operations with a bad kind: %v", err)
	}
	names, err := q.AttributeNames(ctx, storage.AttributeQuery{Scope: storage.ScopeSpan})
	if err != nil || len(names) != 4 {
		t.Errorf("AttributeNames: %v, %v", names, err)
	}
	vals, err := q.AttributeValues(ctx, storage.AttributeQuery{Name: "http.method"})
	if err != nil || len(vals) != 1 || vals[0].AsString() != "GET" {
		t.Errorf("AttributeValues: %v, %v", vals, err)
	}
	if _, err := q.AttributeValues(ctx, storage.AttributeQuery{}); !query.IsBadRequest(err) {
		t.Errorf("AttributeValues without a name: %v", err)
	}
	if _, err := q.AttributeNames(ctx, storage.AttributeQuery{Limit: -1}); !query.IsBadRequest(err) {
		t.Errorf("AttributeNames with a negative limit: %v", err)
	}
	deps, err := q.Dependencies(ctx, storage.TimeRange{})
	if err != nil || len(deps) != 1 || deps[0] != (storage.Dependency{Parent: "frontend", Child: "api", CallCount: 1, ErrorCount: 1}) {
		t.Errorf("Dependencies: %v, %v", deps, err)
	}
	if _, err := q.Dependencies(ctx, storage.TimeRange{Start: 2, End: 1}); !query.IsBadRequest(err) {
		t.Errorf("Dependencies with an inverted range: %v", err)
	}
}

func TestRemoteServices(t *testing.T) {
	q := newService(t, fixture(t), nil)
	ctx := context.Background()
	f := func(service string, want ...string) {
		t.Helper()
		got, err := q.RemoteServices(ctx, service, storage.TimeRange{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) && len(got)+len(want) > 0 {
			t.Errorf("RemoteServices(%q) = %v, want %v", service, got, want)
		}
	}
	f("", "cache", "db")
	f("api", "cache", "db")
	f("frontend")
}

func TestTagFilter(t *testing.T) {
	f := func(k, v string, want ...storage.Condition) {
		t.Helper()
		if got := query.TagFilter(k, v); !slices.EqualFunc(got, want, func(a, b storage.Condition) bool { return a.String() == b.String() && a.Field == b.Field }) {
			t.Errorf("TagFilter(%q, %q) = %v, want %v", k, v, got, want)
		}
	}
	attr := func(k, v string) storage.Condition {
		return storage.Condition{Field: storage.FieldAttribute, Key: k, Op: storage.OpEqual, Value: model.StringValue(v)}
	}
	status := func(op storage.Op, c model.StatusCode) storage.Condition {
		return storage.Condition{Field: storage.FieldStatus, Op: op, Value: model.IntValue(int64(c))}
	}
	f("http.method", "GET", attr("http.method", "GET"))
	f("error", "true", status(storage.OpEqual, model.StatusError), attr("error", "true"))
	f("error", "false", status(storage.OpNotEqual, model.StatusError))
	f("error", "timeout", attr("error", "timeout"))
	f("span.kind", "server", storage.Condition{Field: storage.FieldKind, Value: model.IntValue(int64(model.KindServer))})
	f("span.kind", "sideways", attr("span.kind", "sideways"))
	f("otel.status_code", "ERROR", status(storage.OpEqual, model.StatusError))
	f("otel.status_code", "ok", status(storage.OpEqual, model.StatusOK))
	f("otel.status_description", "boom", eq(storage.FieldStatusMessage, "boom"))
	f("otel.library.name", "lib", eq(storage.FieldScopeName, "lib"))
	f("otel.scope.version", "1.0", eq(storage.FieldScopeVersion, "1.0"))

	if got := query.TagExists("error"); len(got) != 2 {
		t.Errorf("TagExists(error) = %v, want status or attribute", got)
	}
	if got := query.TagExists("x"); len(got) != 1 || got[0].Op != storage.OpExists {
		t.Errorf("TagExists(x) = %v", got)
	}
}
