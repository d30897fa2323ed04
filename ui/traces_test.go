package ui_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// tspan is one span of a test trace, turned into OTLP JSON by otlpJSON.
type tspan struct {
	trace, id, parent string
	service, name     string
	kind              int // OTLP SpanKind
	start             time.Time
	dur               time.Duration
	errMsg            string // status error with this message
	attrs             map[string]string
	exception         *[3]string // type, message, stack trace
	link              [2]string  // trace ID, span ID
}

func kv(attrs map[string]string) []map[string]any {
	out := []map[string]any{}
	for k, v := range attrs {
		out = append(out, map[string]any{"key": k, "value": map[string]any{"stringValue": v}})
	}
	return out
}

// otlpJSON renders spans as one OTLP/HTTP JSON export request, one
// resource per service.
func otlpJSON(spans []tspan) []byte {
	byService := map[string][]map[string]any{}
	var order []string
	for _, s := range spans {
		sp := map[string]any{
			"traceId":           s.trace,
			"spanId":            s.id,
			"parentSpanId":      s.parent,
			"name":              s.name,
			"kind":              s.kind,
			"startTimeUnixNano": strconv.FormatInt(s.start.UnixNano(), 10),
			"endTimeUnixNano":   strconv.FormatInt(s.start.Add(s.dur).UnixNano(), 10),
			"attributes":        kv(s.attrs),
		}
		if s.errMsg != "" {
			sp["status"] = map[string]any{"code": 2, "message": s.errMsg}
		}
		if s.exception != nil {
			sp["events"] = []map[string]any{{
				"name":         "exception",
				"timeUnixNano": strconv.FormatInt(s.start.Add(s.dur/2).UnixNano(), 10),
				"attributes": kv(map[string]string{
					"exception.type": s.exception[0], "exception.message": s.exception[1], "exception.stacktrace": s.exception[2],
				}),
			}}
		}
		if s.link[0] != "" {
			sp["links"] = []map[string]any{{"traceId": s.link[0], "spanId": s.link[1], "attributes": kv(map[string]string{"link.reason": "retry of"})}}
		}
		if _, ok := byService[s.service]; !ok {
			order = append(order, s.service)
		}
		byService[s.service] = append(byService[s.service], sp)
	}
	var rs []map[string]any
	for _, svc := range order {
		rs = append(rs, map[string]any{
			"resource": map[string]any{"attributes": kv(map[string]string{"service.name": svc, "host.name": "host-" + svc})},
			"scopeSpans": []map[string]any{{
				"scope": map[string]any{"name": "clew-ui-test", "version": "1.0"},
				"spans": byService[svc],
			}},
		})
	}
	b, err := json.Marshal(map[string]any{"resourceSpans": rs})
	if err != nil {
		panic(err)
	}
	return b
}

func traceID(n int) string   { return fmt.Sprintf("%032x", 0xc1e0000+n) }
func spanID(t, n int) string { return fmt.Sprintf("%08x%08x", t, n) }

// checkoutTrace is a multi-service checkout; with fail, the bank times out
// and the error propagates up to the root. slow stretches the bank call.
func checkoutTrace(n int, at time.Time, fail bool, slow time.Duration) []tspan {
	tid := traceID(n)
	id := func(k int) string { return spanID(n, k) }
	ms := time.Millisecond
	bank := 80*ms + slow
	spans := []tspan{
		{trace: tid, id: id(1), service: "frontend", name: "POST /api/checkout", kind: 2, start: at, dur: 200*ms + bank,
			attrs: map[string]string{"http.method": "POST", "http.route": "/api/checkout", "http.status_code": "200", "user.tier": "gold"}},
		{trace: tid, id: id(2), parent: id(1), service: "frontend", name: "POST checkout", kind: 3, start: at.Add(5 * ms), dur: 185*ms + bank},
		{trace: tid, id: id(3), parent: id(2), service: "checkout", name: "PlaceOrder", kind: 2, start: at.Add(7 * ms), dur: 180*ms + bank,
			attrs: map[string]string{"rpc.system": "grpc", "order.items": "3"}},
		{trace: tid, id: id(4), parent: id(3), service: "cart", name: "GetCart", kind: 2, start: at.Add(10 * ms), dur: 20 * ms},
		{trace: tid, id: id(5), parent: id(3), service: "checkout", name: "SELECT orders", kind: 3, start: at.Add(12 * ms), dur: 8 * ms,
			attrs: map[string]string{"db.system": "postgresql", "db.statement": "SELECT * FROM orders WHERE id = $1"}},
		{trace: tid, id: id(6), parent: id(3), service: "payment", name: "Charge", kind: 2, start: at.Add(35 * ms), dur: 120*ms + bank,
			attrs: map[string]string{"payment.amount": "42.00"}},
		{trace: tid, id: id(7), parent: id(6), service: "bank", name: "authorize", kind: 2, start: at.Add(50 * ms), dur: bank,
			attrs: map[string]string{"bank.issuer": "acme"}},
		{trace: tid, id: id(8), parent: id(3), service: "orders", name: "CreateOrder", kind: 2, start: at.Add(60*ms + bank + 100*ms), dur: 15 * ms},
	}
	if fail {
		spans[0].errMsg = "checkout failed"
		spans[0].attrs["http.status_code"] = "502"
		spans[1].errMsg = "upstream error"
		spans[2].errMsg = "payment failed"
		spans[5].errMsg = "bank failed"
		spans[6].errMsg = "deadline exceeded"
		spans[6].exception = &[3]string{"TimeoutException", "deadline exceeded after 1s",
			"TimeoutException: deadline exceeded after 1s\n\tat bank.Authorizer.authorize(Authorizer.java:42)\n\tat bank.Server.handle(Server.java:17)"}
		spans[6].link = [2]string{tid, id(4)}
		spans = spans[:7] // the order is never created
	}
	return spans
}

// hostileText is what an attacker puts in span data.
const hostileName = `<img src=x onerror=alert(1)>`
const hostileService = `evil"><script>alert(2)</script>`

func hostileTrace(n int, at time.Time) []tspan {
	tid := traceID(n)
	return []tspan{
		{trace: tid, id: spanID(n, 1), service: hostileService, name: hostileName, kind: 2, start: at, dur: 30 * time.Millisecond,
			errMsg: `<svg onload=alert(3)>`,
			attrs:  map[string]string{"html": `<b>bold</b><img src=x onerror=alert(4)>`, `<i>key</i>`: "javascript:alert(5)"}},
		{trace: tid, id: spanID(n, 2), parent: spanID(n, 1), service: "frontend", name: `"><img src=x onerror=alert(6)>`, kind: 3,
			start: at.Add(2 * time.Millisecond), dur: 10 * time.Millisecond},
	}
}

// largeTrace has count spans over 25 services: a root with a wide, fairly
// shallow tree below it, as a batch job or a fan-out would make.
func largeTrace(n, count int, at time.Time) []tspan {
	rng := rand.New(rand.NewPCG(uint64(n), 42))
	tid := traceID(n)
	spans := make([]tspan, 0, count)
	spans = append(spans, tspan{trace: tid, id: spanID(n, 0), service: "batch", name: "reindex", kind: 2, start: at, dur: 30 * time.Second})
	for i := 1; i < count; i++ {
		// A random recursive tree: depth about ln(count), a dozen levels.
		p := rng.IntN(i)
		ps := spans[p]
		off := time.Duration(rng.Float64() * 0.6 * float64(ps.dur))
		dur := time.Duration((0.2 + 0.8*rng.Float64()) * float64(ps.dur-off))
		svc := fmt.Sprintf("svc-%02d", rng.IntN(25))
		s := tspan{trace: tid, id: spanID(n, i), parent: ps.id, service: svc, name: fmt.Sprintf("op-%d", rng.IntN(40)),
			kind: 1, start: ps.start.Add(off), dur: dur, attrs: map[string]string{"i": strconv.Itoa(i)}}
		if rng.IntN(500) == 0 {
			s.errMsg = "item failed"
		}
		spans = append(spans, s)
	}
	return spans
}
