package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/memstore"
)

// Searches run over growing windows from the newest end of the range
// (findNewest); whatever window decides, the answer must be the newest
// traces of the whole range, as memstore finds them. The traces lie from
// a minute to two days back, some with a child span hours after the root
// (a trace whose first start is old but whose matching span is recent),
// and the rare service only in old traces, so that queries stop in the
// first window, in a middle one, or search everything.
func TestFindNewestMatchesMemstore(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	db := openTest(t, t.TempDir(), Options{FlushInterval: 0, noLoops: true, now: func() time.Time { return now }})
	ref := memstore.New()
	ctx := context.Background()
	var spans []*model.Span
	ages := []time.Duration{time.Minute, 2 * time.Minute, 3 * time.Minute, 10 * time.Minute, 30 * time.Minute,
		2 * time.Hour, 5 * time.Hour, 20 * time.Hour, 47 * time.Hour}
	for i := range 60 {
		age := ages[i%len(ages)] + time.Duration(i)*time.Second
		svc := "api"
		if i%7 == 0 && age > 3*time.Hour {
			svc = "rare"
		}
		tid := model.TraceID{15: byte(i + 1), 0: 0xab}
		root := &model.Span{TraceID: tid, SpanID: model.SpanID{7: byte(i + 1)}, Name: "GET /", Kind: model.KindServer,
			Resource: &model.Resource{ServiceName: svc}, Scope: &model.Scope{},
			StartUnixNano: uint64(now.Add(-age).UnixNano()), EndUnixNano: uint64(now.Add(-age + time.Millisecond).UnixNano())}
		spans = append(spans, root)
		if i%5 == 0 {
			// A span much later than its trace's start.
			late := *root
			late.SpanID = model.SpanID{6: 1, 7: byte(i + 1)}
			late.ParentSpanID = root.SpanID
			late.Name = "late"
			late.StartUnixNano = uint64(now.Add(-age / 10).UnixNano())
			late.EndUnixNano = late.StartUnixNano + 1000
			spans = append(spans, &late)
		}
	}
	// X started 40 hours ago and pinged a minute ago; Y started ten
	// minutes ago and pinged a minute later. The newest trace with a
	// ping is Y, though only X pinged in the newest five minutes.
	for i, at := range [][2]time.Duration{{40 * time.Hour, time.Minute}, {10 * time.Minute, 9 * time.Minute}} {
		tid := model.TraceID{0: 0xcd, 15: byte(200 + i)}
		root := &model.Span{TraceID: tid, SpanID: model.SpanID{7: byte(200 + i)}, Name: "job", Kind: model.KindServer,
			Resource: &model.Resource{ServiceName: "42"}, Scope: &model.Scope{},
			StartUnixNano: uint64(now.Add(-at[0]).UnixNano()), EndUnixNano: uint64(now.Add(-at[0] + time.Second).UnixNano())}
		ping := *root
		ping.SpanID, ping.ParentSpanID, ping.Name = model.SpanID{6: 2, 7: byte(200 + i)}, root.SpanID, "ping"
		ping.StartUnixNano = uint64(now.Add(-at[1]).UnixNano())
		ping.EndUnixNano = ping.StartUnixNano + 1000
		spans = append(spans, root, &ping)
	}
	if err := db.Write(ctx, spans); err != nil {
		t.Fatal(err)
	}
	if err := ref.Write(ctx, spans); err != nil {
		t.Fatal(err)
	}
	str := model.StringValue
	ranges := []storage.TimeRange{{}, {Start: uint64(now.Add(-6 * time.Hour).UnixNano()), End: uint64(now.UnixNano())},
		{End: uint64(now.Add(-time.Hour).UnixNano())}}
	conds := [][]storage.Condition{nil,
		{{Field: storage.FieldService, Op: storage.OpEqual, Value: str("rare")}},
		{{Field: storage.FieldName, Op: storage.OpEqual, Value: str("late")}},
		{{Field: storage.FieldName, Op: storage.OpEqual, Value: str("ping")}},
		// Evaluated in Go (a number against a string intrinsic).
		{{Field: storage.FieldService, Op: storage.OpGreater, Value: model.IntValue(5)}}}
	for _, r := range ranges {
		for _, c := range conds {
			for _, limit := range []int{1, 3, 10, 100} {
				q := &storage.Query{Range: r, Conditions: c, Limit: limit}
				got, err := db.FindTraces(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				want, err := ref.FindTraces(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				ids := func(s []storage.TraceSummary) []string {
					var out []string
					for _, x := range s {
						out = append(out, fmt.Sprintf("%x", x.TraceID[15]))
					}
					return out
				}
				if !slices.Equal(ids(got), ids(want)) {
					t.Errorf("range %v, %v, limit %d:\n got %v\nwant %v", r, c, limit, ids(got), ids(want))
				}
			}
		}
	}
}
