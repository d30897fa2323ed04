package block

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/clew-tracing/clew/internal/model"
)

// Test data generators. genRealistic models what an OpenTelemetry-
// instrumented microservice system sends (used for the bytes-per-span
// measurement); genRandom exercises every field and value type.

func randTraceID(r *rand.Rand) model.TraceID {
	var id model.TraceID
	for i := range id {
		id[i] = byte(r.IntN(256))
	}
	return id
}

func randSpanID(r *rand.Rand) model.SpanID {
	var id model.SpanID
	for i := range id {
		id[i] = byte(r.IntN(256))
	}
	if id.IsZero() {
		id[7] = 1
	}
	return id
}

// realWorld is a fixed set of services, instances and operations.
type realWorld struct {
	services  []string
	resources [][]*model.Resource // per service, per instance
	scopes    []*model.Scope
	ops       [][]string // per service
}

func newRealWorld(r *rand.Rand) *realWorld {
	w := &realWorld{services: []string{"frontend", "cart", "checkout", "payment", "shipping", "currency", "email", "recommendation"}}
	for si, svc := range w.services {
		var insts []*model.Resource
		for i := range 3 {
			insts = append(insts, &model.Resource{
				ServiceName: svc,
				SchemaURL:   "https://opentelemetry.io/schemas/1.24.0",
				Attributes: []model.KeyValue{
					{Key: "service.name", Value: model.StringValue(svc)},
					{Key: "service.version", Value: model.StringValue(fmt.Sprintf("1.%d.%d", si, i))},
					{Key: "service.instance.id", Value: model.StringValue(fmt.Sprintf("%s-%08x", svc, r.Uint32()))},
					{Key: "host.name", Value: model.StringValue(fmt.Sprintf("node-%d", r.IntN(12)))},
					{Key: "k8s.pod.name", Value: model.StringValue(fmt.Sprintf("%s-7d9f8b-%05x", svc, r.IntN(1<<20)))},
					{Key: "k8s.namespace.name", Value: model.StringValue("shop")},
					{Key: "process.pid", Value: model.IntValue(int64(r.IntN(60000)))},
					{Key: "telemetry.sdk.language", Value: model.StringValue([]string{"go", "java", "python", "node"}[si%4])},
					{Key: "telemetry.sdk.version", Value: model.StringValue("1.28.0")},
					{Key: "deployment.environment", Value: model.StringValue("production")},
				},
			})
		}
		w.resources = append(w.resources, insts)
		var ops []string
		for o := range 6 {
			ops = append(ops, fmt.Sprintf("%s/%s", svc, []string{"GET /api/items/{id}", "POST /api/orders", "GetQuote", "SELECT items", "publish events", "render"}[o]))
		}
		w.ops = append(w.ops, ops)
	}
	for _, n := range []string{"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp", "go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc", "github.com/XSAM/otelsql"} {
		w.scopes = append(w.scopes, &model.Scope{Name: n, Version: "0.53.0"})
	}
	return w
}

// genRealistic returns nTraces traces of 1 to 24 spans (about 10 on
// average) with ten attributes per span.
func genRealistic(r *rand.Rand, w *realWorld, nTraces int, baseTime uint64) []*model.Span {
	var out []*model.Span
	methods := []string{"GET", "GET", "GET", "POST", "PUT", "DELETE"}
	codes := []int64{200, 200, 200, 200, 200, 200, 201, 204, 404, 500}
	for range nTraces {
		tid := randTraceID(r)
		n := 1 + r.IntN(20)
		if r.IntN(10) == 0 {
			n += r.IntN(5)
		}
		start := baseTime + uint64(r.Int64N(int64(2*3600*1e9)))
		var spans []*model.Span
		for i := range n {
			si := 0
			var parent *model.Span
			if i > 0 {
				parent = spans[r.IntN(len(spans))]
				si = r.IntN(len(w.services))
			}
			s := &model.Span{TraceID: tid, SpanID: randSpanID(r), Resource: w.resources[si][r.IntN(3)], Scope: w.scopes[r.IntN(len(w.scopes))]}
			s.Name = w.ops[si][r.IntN(len(w.ops[si]))]
			s.Kind = []model.SpanKind{model.KindServer, model.KindClient, model.KindInternal}[r.IntN(3)]
			s.Flags = 0x100 | 1
			if parent == nil {
				s.StartUnixNano = start
				s.EndUnixNano = start + uint64(r.Int64N(2e9)) + 1000
			} else {
				s.ParentSpanID = parent.SpanID
				pd := parent.EndUnixNano - parent.StartUnixNano
				s.StartUnixNano = parent.StartUnixNano + uint64(r.Int64N(int64(pd/2)+1))
				s.EndUnixNano = s.StartUnixNano + uint64(r.Int64N(int64(pd/2)+1))
			}
			code := codes[r.IntN(len(codes))]
			if code >= 500 {
				s.StatusCode = model.StatusError
				s.StatusMessage = "internal server error"
			}
			s.Attributes = []model.KeyValue{
				{Key: "http.request.method", Value: model.StringValue(methods[r.IntN(len(methods))])},
				{Key: "url.path", Value: model.StringValue("/api/items/" + strconv.Itoa(r.IntN(100000)))},
				{Key: "http.route", Value: model.StringValue("/api/items/{id}")},
				{Key: "http.response.status_code", Value: model.IntValue(code)},
				{Key: "server.address", Value: model.StringValue(w.services[r.IntN(len(w.services))] + ".shop.svc.cluster.local")},
				{Key: "server.port", Value: model.IntValue(8080)},
				{Key: "network.protocol.version", Value: model.StringValue([]string{"1.1", "2"}[r.IntN(2)])},
				{Key: "client.address", Value: model.StringValue(fmt.Sprintf("10.4.%d.%d", r.IntN(4), r.IntN(256)))},
				{Key: "user_agent.original", Value: model.StringValue([]string{"Mozilla/5.0 (X11; Linux x86_64)", "okhttp/4.12.0", "grpc-go/1.64.0"}[r.IntN(3)])},
				{Key: "thread.id", Value: model.IntValue(int64(r.IntN(64)))},
			}
			if s.StatusCode == model.StatusError {
				s.Events = []model.Event{{TimeUnixNano: s.EndUnixNano, Name: "exception", Attributes: []model.KeyValue{
					{Key: "exception.type", Value: model.StringValue("*errors.errorString")},
					{Key: "exception.message", Value: model.StringValue("upstream connect error")},
				}}}
			}
			spans = append(spans, s)
		}
		out = append(out, spans...)
	}
	return out
}

// randValue returns a value of any type, nested up to depth levels.
func randValue(r *rand.Rand, depth int) model.Value {
	t := model.ValueType(r.IntN(8))
	if depth <= 0 && t >= model.TypeArray {
		t = model.TypeString
	}
	switch t {
	case model.TypeString:
		return model.StringValue([]string{"", "a", "GET", "ümlaut", "x\x00y", "val-" + strconv.Itoa(r.IntN(50))}[r.IntN(6)])
	case model.TypeBool:
		return model.BoolValue(r.IntN(2) == 0)
	case model.TypeInt:
		return model.IntValue([]int64{0, -1, 1, math.MaxInt64, math.MinInt64, int64(r.IntN(1000))}[r.IntN(6)])
	case model.TypeDouble:
		return model.DoubleValue([]float64{0, math.Copysign(0, -1), 1.5, -2.25, math.Inf(1), math.MaxFloat64, r.Float64()}[r.IntN(7)])
	case model.TypeBytes:
		return model.BytesValue([]byte{byte(r.IntN(256)), 0, 0xff})
	case model.TypeArray:
		n := r.IntN(4)
		var a []model.Value
		for range n {
			a = append(a, randValue(r, depth-1))
		}
		return model.Value{Type: model.TypeArray, Array: a}
	case model.TypeMap:
		return model.Value{Type: model.TypeMap, Map: randKVs(r, r.IntN(4), depth-1)}
	}
	return model.Value{}
}

func randKVs(r *rand.Rand, n, depth int) []model.KeyValue {
	if n == 0 {
		return nil
	}
	kvs := make([]model.KeyValue, n)
	for i := range kvs {
		kvs[i] = model.KeyValue{Key: fmt.Sprintf("k%d", r.IntN(12)), Value: randValue(r, depth)}
	}
	return kvs
}

// genRandom returns spans of nTraces traces exercising every field: all
// value types, nested values, events, links (same and other trace), nil
// and shared resources and scopes, external and missing parents, flags,
// trace state, dropped counts and odd timestamps.
func genRandom(r *rand.Rand, nTraces int) []*model.Span {
	var resources []*model.Resource
	for i := range 5 {
		resources = append(resources, &model.Resource{ServiceName: fmt.Sprintf("svc-%d", i), Attributes: randKVs(r, r.IntN(4), 2), SchemaURL: []string{"", "https://s/1"}[i%2]})
	}
	resources = append(resources, nil, &model.Resource{})
	scopes := []*model.Scope{nil, {Name: "lib", Version: "1.0"}, {Name: "lib2", Attributes: randKVs(r, 2, 1), SchemaURL: "https://s/2"}}
	var out []*model.Span
	for range nTraces {
		tid := randTraceID(r)
		n := 1 + r.IntN(8)
		base := uint64(1_700_000_000_000_000_000) + uint64(r.Int64N(1e12))
		var ids []model.SpanID
		for i := range n {
			s := &model.Span{TraceID: tid, SpanID: randSpanID(r), Resource: resources[r.IntN(len(resources))], Scope: scopes[r.IntN(len(scopes))]}
			switch {
			case i == 0:
			case r.IntN(5) == 0:
				s.ParentSpanID = randSpanID(r) // external
			default:
				s.ParentSpanID = ids[r.IntN(len(ids))]
			}
			ids = append(ids, s.SpanID)
			s.Name = fmt.Sprintf("op-%d", r.IntN(6))
			s.Kind = model.SpanKind(r.IntN(6))
			s.StatusCode = model.StatusCode(r.IntN(3))
			if s.StatusCode == model.StatusError {
				s.StatusMessage = []string{"boom", "timeout", ""}[r.IntN(3)]
			}
			s.StartUnixNano = base + uint64(r.Int64N(1e9))
			s.EndUnixNano = s.StartUnixNano + uint64(r.Int64N(5e8))
			if r.IntN(20) == 0 {
				s.EndUnixNano = s.StartUnixNano - 5 // ends before it starts
			}
			s.TraceState = []string{"", "", "rojo=00f067aa0ba902b7"}[r.IntN(3)]
			s.Flags = uint32(r.IntN(3)) << 8
			s.Attributes = randKVs(r, r.IntN(6), 2)
			s.DroppedAttributesCount = uint32(r.IntN(2))
			s.DroppedEventsCount = uint32(r.IntN(2)) * 7
			s.DroppedLinksCount = uint32(r.IntN(2)) * math.MaxUint32
			for range r.IntN(3) {
				s.Events = append(s.Events, model.Event{
					TimeUnixNano: s.StartUnixNano + uint64(r.Int64N(1e6)) - 1000, Name: []string{"exception", "log", ""}[r.IntN(3)],
					Attributes: randKVs(r, r.IntN(3), 1), DroppedAttributesCount: uint32(r.IntN(3)),
				})
			}
			for range r.IntN(2) {
				l := model.Link{TraceID: tid, SpanID: randSpanID(r), Attributes: randKVs(r, r.IntN(3), 1), Flags: uint32(r.IntN(2)), DroppedAttributesCount: uint32(r.IntN(2))}
				if r.IntN(2) == 0 {
					l.TraceID = randTraceID(r)
					l.TraceState = "congo=t61rcWkgMzE"
				}
				s.Links = append(s.Links, l)
			}
			out = append(out, s)
		}
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}
