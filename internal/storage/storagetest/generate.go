package storagetest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/clew-tracing/clew/internal/model"
)

// GeneratedAttributes is the number of span attributes on every span that
// [GenerateTraces] makes.
const GeneratedAttributes = 10

// TraceInterval is how far apart [GenerateTraces] starts consecutive traces.
const TraceInterval = 50 * time.Millisecond

// GeneratedServices returns the services whose spans [GenerateTraces]
// makes, sorted. Small data sets may not use all of them.
func GeneratedServices() []string {
	return []string{"accounting", "cart", "checkout", "currency", "email", "frontend", "payment", "product-catalog", "shipping"}
}

// GenerateTraces returns nTraces traces of spansPerTrace spans each (at
// least one), looking like the OpenTelemetry demo shop: a frontend HTTP
// server span at the root, gRPC client and server pairs between services,
// database and cache calls, Kafka producers and consumers, and internal
// spans. The result is the same for the same arguments.
//
// Trace i starts in [start+i*TraceInterval, start+(i+1)*TraceInterval) and
// lasts between 5ms and about a second; its spans nest in time within their
// parents. Spans are returned trace by trace, each parent before its
// children.
//
// Every span has exactly GeneratedAttributes span attributes (http.method,
// http.status_code, rpc.service, db.system, db.statement, messaging.system
// and so on, depending on its kind), a resource with service.name, host.name
// and seven more attributes, and an instrumentation scope; resources and
// scopes are shared by pointer between spans of a service. About one span in
// twenty fails, with status error, a status message and an "exception"
// event; RPC spans carry "message" events; consumer spans link to their
// producer and about one root in five links to the previous trace's root.
// Trace and span IDs are random, derived from seed.
func GenerateTraces(seed int64, nTraces, spansPerTrace int, start time.Time) []*model.Span {
	if nTraces <= 0 {
		return nil
	}
	spansPerTrace = max(spansPerTrace, 1)
	g := &generator{
		rng:   rand.New(rand.NewPCG(uint64(seed), 0x636c6577)), // "clew"
		start: unixNano(start),
		res:   map[string]*model.Resource{},
		scope: map[string]*model.Scope{},
	}
	out := make([]*model.Span, 0, nTraces*spansPerTrace)
	var prevRoot *model.Span
	for i := range nTraces {
		tr := g.trace(i, spansPerTrace, prevRoot)
		prevRoot = tr[0]
		out = append(out, tr...)
	}
	return out
}

type generator struct {
	rng   *rand.Rand
	start uint64
	res   map[string]*model.Resource
	scope map[string]*model.Scope
}

// node is a generated span with what its children need to know.
type node struct {
	span   *model.Span
	callee string // for a client or producer span: the service that handles it
	leaf   bool   // no children (database calls, producers' consumers aside)
	served bool   // a client span whose server side has been generated
}

var (
	frontendRoutes = []string{"/", "/product/{id}", "/cart", "/cart/checkout", "/api/recommendations", "/api/currency"}
	frontendMethod = map[string]string{"/": "GET", "/product/{id}": "GET", "/cart": "POST", "/cart/checkout": "POST", "/api/recommendations": "GET", "/api/currency": "GET"}
	rpcServices    = map[string][]string{
		"cart":            {"oteldemo.CartService/GetCart", "oteldemo.CartService/AddItem", "oteldemo.CartService/EmptyCart"},
		"checkout":        {"oteldemo.CheckoutService/PlaceOrder"},
		"currency":        {"oteldemo.CurrencyService/Convert", "oteldemo.CurrencyService/GetSupportedCurrencies"},
		"payment":         {"oteldemo.PaymentService/Charge"},
		"product-catalog": {"oteldemo.ProductCatalogService/GetProduct", "oteldemo.ProductCatalogService/ListProducts"},
		"shipping":        {"oteldemo.ShippingService/GetQuote", "oteldemo.ShippingService/ShipOrder"},
	}
	// callees lists the services each service calls over RPC.
	callees = map[string][]string{
		"frontend":        {"cart", "checkout", "currency", "product-catalog", "shipping"},
		"checkout":        {"cart", "currency", "payment", "product-catalog", "shipping"},
		"cart":            {"product-catalog"},
		"shipping":        {"currency"},
		"product-catalog": {"currency"},
		"accounting":      {"currency"},
		"email":           {"currency"},
	}
	databases = map[string][3]string{ // db.system, db.name, table
		"cart":            {"redis", "0", "cart"},
		"product-catalog": {"postgresql", "catalog", "products"},
		"accounting":      {"postgresql", "ledger", "entries"},
		"payment":         {"postgresql", "payments", "charges"},
		"checkout":        {"redis", "1", "orders"},
	}
	consumers = []string{"accounting", "email"}
)

func (g *generator) trace(i, n int, prevRoot *model.Span) []*model.Span {
	traceStart := g.start + uint64(i)*uint64(TraceInterval) + g.rng.Uint64N(uint64(TraceInterval))
	// Log-uniform between 5ms and ~1.1s.
	dur := uint64(float64(5*time.Millisecond) * math.Exp(g.rng.Float64()*5.4))
	tid := g.traceID()
	nodes := make([]*node, 0, n)

	route := frontendRoutes[g.rng.IntN(len(frontendRoutes))]
	root := g.newSpan(tid, model.SpanID{}, "frontend", frontendMethod[route]+" "+route, model.KindServer, traceStart, traceStart+dur)
	root.Attributes = g.httpServerAttrs(route)
	if prevRoot != nil && g.rng.IntN(5) == 0 {
		root.Links = []model.Link{{
			TraceID:    prevRoot.TraceID,
			SpanID:     prevRoot.SpanID,
			TraceState: "clew=1",
			Flags:      1,
			Attributes: []model.KeyValue{
				{Key: "link.reason", Value: model.StringValue("retry")},
				{Key: "link.attempt", Value: model.IntValue(int64(1 + g.rng.IntN(3)))},
			},
		}}
	}
	g.maybeFail(root, "frontend")
	nodes = append(nodes, &node{span: root})

	for len(nodes) < n {
		p := g.pickParent(nodes)
		nodes = append(nodes, g.child(p, n-len(nodes)))
	}
	out := make([]*model.Span, len(nodes))
	for i, nd := range nodes {
		out[i] = nd.span
	}
	return out
}

// pickParent prefers client spans still waiting for their server side, so
// that calls come in client/server pairs, then any span that may have
// children.
func (g *generator) pickParent(nodes []*node) *node {
	var pending, open []*node
	for _, nd := range nodes {
		switch {
		case nd.leaf:
		case (nd.span.Kind == model.KindClient || nd.span.Kind == model.KindProducer) && !nd.served:
			pending = append(pending, nd)
		case nd.span.Kind != model.KindClient && nd.span.Kind != model.KindProducer:
			open = append(open, nd)
		}
	}
	if len(pending) > 0 && (len(open) == 0 || g.rng.IntN(10) < 8) {
		return pending[g.rng.IntN(len(pending))]
	}
	if len(open) == 0 {
		// Every span is a leaf or served: hang an internal span off the root.
		return nodes[0]
	}
	// Prefer recent spans, for deeper trees.
	j := len(open) - 1 - min(g.rng.IntN(len(open)), g.rng.IntN(len(open)))
	return open[j]
}

// child makes a span under p; remaining counts the spans still to make,
// this one included.
func (g *generator) child(p *node, remaining int) *node {
	ps := p.span
	svc := ps.Service()
	cs, ce := g.within(ps.StartUnixNano, ps.EndUnixNano)
	switch {
	case p.span.Kind == model.KindClient && !p.served && !p.leaf:
		p.served = true
		method := rpcServices[p.callee][g.rng.IntN(len(rpcServices[p.callee]))]
		s := g.newSpan(ps.TraceID, ps.SpanID, p.callee, method, model.KindServer, cs, ce)
		s.Attributes = g.rpcAttrs(p.callee, method, "server")
		g.rpcEvents(s)
		g.maybeFail(s, p.callee)
		return &node{span: s}
	case p.span.Kind == model.KindProducer && !p.served:
		p.served = true
		consumer := consumers[g.rng.IntN(len(consumers))]
		// A consumer runs after the producer sent the message.
		cs = ps.EndUnixNano + g.rng.Uint64N(uint64(2*time.Millisecond))
		ce = cs + uint64(time.Millisecond) + g.rng.Uint64N(uint64(20*time.Millisecond))
		s := g.newSpan(ps.TraceID, ps.SpanID, consumer, "orders process", model.KindConsumer, cs, ce)
		s.Attributes = g.messagingAttrs(consumer, "process")
		s.Links = []model.Link{{TraceID: ps.TraceID, SpanID: ps.SpanID, Attributes: []model.KeyValue{
			{Key: "messaging.operation", Value: model.StringValue("publish")},
		}}}
		g.maybeFail(s, consumer)
		return &node{span: s}
	}
	r := g.rng.IntN(10)
	if svc == "checkout" && r >= 8 && remaining >= 2 {
		// Checkout publishes an order for every few calls it makes.
		s := g.newSpan(ps.TraceID, ps.SpanID, svc, "orders publish", model.KindProducer, cs, ce)
		s.Attributes = g.messagingAttrs(svc, "publish")
		return &node{span: s, callee: "orders"}
	}
	switch {
	case r < 5 && len(callees[svc]) > 0 && remaining >= 2:
		callee := callees[svc][g.rng.IntN(len(callees[svc]))]
		method := rpcServices[callee][g.rng.IntN(len(rpcServices[callee]))]
		s := g.newSpan(ps.TraceID, ps.SpanID, svc, method, model.KindClient, cs, ce)
		s.Attributes = g.rpcAttrs(callee, method, "client")
		g.rpcEvents(s)
		g.maybeFail(s, svc)
		return &node{span: s, callee: callee}
	case r < 7 && databases[svc][0] != "":
		db := databases[svc]
		op, stmt := g.statement(db)
		s := g.newSpan(ps.TraceID, ps.SpanID, svc, op, model.KindClient, cs, ce)
		s.Attributes = g.dbAttrs(db, op, stmt)
		g.maybeFail(s, svc)
		return &node{span: s, leaf: true}
	}
	fn := []string{"prepareOrder", "validateCart", "convertCurrency", "renderPage", "loadConfig", "computeQuote"}[g.rng.IntN(6)]
	s := g.newSpan(ps.TraceID, ps.SpanID, svc, fn, model.KindInternal, cs, ce)
	s.Attributes = g.internalAttrs(svc, fn)
	g.maybeFail(s, svc)
	return &node{span: s}
}

// within picks a sub-interval of [start, end].
func (g *generator) within(start, end uint64) (uint64, uint64) {
	d := end - start
	if d < 2 {
		return start, end
	}
	off := g.rng.Uint64N(d / 2)
	length := 1 + g.rng.Uint64N(d-off)
	return start + off, start + off + length
}

func (g *generator) newSpan(tid model.TraceID, parent model.SpanID, svc, name string, kind model.SpanKind, start, end uint64) *model.Span {
	s := &model.Span{
		TraceID:       tid,
		SpanID:        g.spanID(),
		ParentSpanID:  parent,
		Name:          name,
		Kind:          kind,
		StartUnixNano: start,
		EndUnixNano:   end,
		Flags:         1,
		Resource:      g.resource(svc),
		Scope:         g.instrumentation(svc, kind),
	}
	if g.rng.IntN(4) == 0 {
		s.TraceState = "clew=" + svc
	}
	return s
}

func (g *generator) traceID() model.TraceID {
	var id model.TraceID
	for id.IsZero() {
		for i := range 2 {
			v := g.rng.Uint64()
			for j := range 8 {
				id[i*8+j] = byte(v >> (8 * j))
			}
		}
	}
	return id
}

func (g *generator) spanID() model.SpanID {
	var id model.SpanID
	for id.IsZero() {
		v := g.rng.Uint64()
		for j := range 8 {
			id[j] = byte(v >> (8 * j))
		}
	}
	return id
}

func (g *generator) resource(svc string) *model.Resource {
	if r, ok := g.res[svc]; ok {
		return r
	}
	lang := "go"
	switch svc {
	case "cart":
		lang = "dotnet"
	case "payment", "frontend":
		lang = "nodejs"
	case "email":
		lang = "ruby"
	case "shipping":
		lang = "rust"
	}
	r := &model.Resource{
		ServiceName: svc,
		SchemaURL:   "https://opentelemetry.io/schemas/1.26.0",
		Attributes: []model.KeyValue{
			{Key: "service.name", Value: model.StringValue(svc)},
			{Key: "service.namespace", Value: model.StringValue("shop")},
			{Key: "service.version", Value: model.StringValue(fmt.Sprintf("1.%d.%d", len(svc)%4, len(svc)))},
			{Key: "service.instance.id", Value: model.StringValue(fmt.Sprintf("%s-%08x", svc, g.rng.Uint32()))},
			{Key: "host.name", Value: model.StringValue(fmt.Sprintf("%s-7d9f%04x", svc, g.rng.Uint32()&0xffff))},
			{Key: "deployment.environment", Value: model.StringValue("production")},
			{Key: "telemetry.sdk.name", Value: model.StringValue("opentelemetry")},
			{Key: "telemetry.sdk.language", Value: model.StringValue(lang)},
			{Key: "telemetry.sdk.version", Value: model.StringValue("1.38.0")},
			{Key: "process.pid", Value: model.IntValue(int64(1 + g.rng.IntN(65535)))},
		},
	}
	g.res[svc] = r
	return r
}

func (g *generator) instrumentation(svc string, kind model.SpanKind) *model.Scope {
	lib := "internal"
	switch {
	case svc == "frontend" && kind == model.KindServer:
		lib = "http"
	case kind == model.KindProducer || kind == model.KindConsumer:
		lib = "kafka"
	case kind == model.KindServer || kind == model.KindClient:
		lib = "grpc"
	}
	key := svc + "/" + lib
	if sc, ok := g.scope[key]; ok {
		return sc
	}
	name := map[string]string{
		"http":     "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp",
		"grpc":     "go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc",
		"kafka":    "github.com/IBM/sarama/otelsarama",
		"internal": "shop/" + svc,
	}[lib]
	sc := &model.Scope{Name: name, Version: "0.61.0"}
	if lib == "internal" {
		sc.Version = "1.0.0"
		sc.Attributes = []model.KeyValue{{Key: "shop.component", Value: model.StringValue(svc)}}
	}
	g.scope[key] = sc
	return sc
}

// maybeFail makes about one span in twenty an error, with an exception
// event, and keeps the HTTP or RPC status attributes consistent.
func (g *generator) maybeFail(s *model.Span, svc string) {
	if g.rng.IntN(20) != 0 {
		if g.rng.IntN(4) == 0 {
			s.StatusCode = model.StatusOK
		}
		return
	}
	s.StatusCode = model.StatusError
	exc := []string{"TimeoutError", "ConnectionRefused", "InvalidArgument", "NullPointerException"}[g.rng.IntN(4)]
	s.StatusMessage = fmt.Sprintf("%s: %s failed", exc, s.Name)
	for i := range s.Attributes {
		switch s.Attributes[i].Key {
		case "http.status_code":
			s.Attributes[i].Value = model.IntValue(500 + int64(g.rng.IntN(4)))
		case "rpc.grpc.status_code":
			s.Attributes[i].Value = model.IntValue(int64([]int{2, 4, 13, 14}[g.rng.IntN(4)]))
		}
	}
	s.Events = append(s.Events, model.Event{
		TimeUnixNano: s.EndUnixNano - (s.EndUnixNano-s.StartUnixNano)/4,
		Name:         "exception",
		Attributes: []model.KeyValue{
			{Key: "exception.type", Value: model.StringValue(exc)},
			{Key: "exception.message", Value: model.StringValue(s.StatusMessage)},
			{Key: "exception.stacktrace", Value: model.StringValue(fmt.Sprintf("%s\n\tat %s.handle(%s.go:%d)", exc, svc, svc, 10+g.rng.IntN(400)))},
			{Key: "exception.escaped", Value: model.BoolValue(g.rng.IntN(2) == 0)},
		},
	})
}

func (g *generator) rpcEvents(s *model.Span) {
	d := s.EndUnixNano - s.StartUnixNano
	sent, recv := "SENT", "RECEIVED"
	if s.Kind == model.KindServer {
		sent, recv = recv, sent
	}
	size := int64(64 + g.rng.IntN(4096))
	s.Events = append(s.Events,
		model.Event{TimeUnixNano: s.StartUnixNano + d/10, Name: "message", Attributes: []model.KeyValue{
			{Key: "message.type", Value: model.StringValue(sent)},
			{Key: "message.id", Value: model.IntValue(1)},
			{Key: "message.uncompressed_size", Value: model.IntValue(size)},
		}},
		model.Event{TimeUnixNano: s.EndUnixNano - d/10, Name: "message", Attributes: []model.KeyValue{
			{Key: "message.type", Value: model.StringValue(recv)},
			{Key: "message.id", Value: model.IntValue(1)},
			{Key: "message.uncompressed_size", Value: model.IntValue(int64(32 + g.rng.IntN(8192)))},
		}},
	)
}

var userAgents = []string{
	"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
	"python-requests/2.32.3",
	"k6/0.52.0 (https://k6.io/)",
}

func (g *generator) httpServerAttrs(route string) []model.KeyValue {
	target := route
	if route == "/product/{id}" {
		target = fmt.Sprintf("/product/%X", g.rng.Uint32())
	}
	return []model.KeyValue{
		{Key: "http.method", Value: model.StringValue(frontendMethod[route])},
		{Key: "http.route", Value: model.StringValue(route)},
		{Key: "http.target", Value: model.StringValue(target)},
		{Key: "http.url", Value: model.StringValue("http://shop.example.com" + target)},
		{Key: "http.scheme", Value: model.StringValue("http")},
		{Key: "http.status_code", Value: model.IntValue([]int64{200, 200, 200, 200, 201, 302, 304, 404}[g.rng.IntN(8)])},
		{Key: "http.flavor", Value: model.StringValue("1.1")},
		{Key: "http.user_agent", Value: model.StringValue(userAgents[g.rng.IntN(len(userAgents))])},
		{Key: "net.host.name", Value: model.StringValue("shop.example.com")},
		{Key: "net.host.port", Value: model.IntValue(8080)},
	}
}

func (g *generator) rpcAttrs(callee, method, side string) []model.KeyValue {
	svc, m := method, method
	for i := len(method) - 1; i >= 0; i-- {
		if method[i] == '/' {
			svc, m = method[:i], method[i+1:]
			break
		}
	}
	return []model.KeyValue{
		{Key: "rpc.system", Value: model.StringValue("grpc")},
		{Key: "rpc.service", Value: model.StringValue(svc)},
		{Key: "rpc.method", Value: model.StringValue(m)},
		{Key: "rpc.grpc.status_code", Value: model.IntValue(0)},
		{Key: "net.peer.name", Value: model.StringValue(callee)},
		{Key: "net.peer.port", Value: model.IntValue(int64(5000 + len(callee)))},
		{Key: "net.transport", Value: model.StringValue("ip_tcp")},
		{Key: "rpc.side", Value: model.StringValue(side)},
		{Key: "thread.id", Value: model.IntValue(int64(1 + g.rng.IntN(64)))},
		{Key: "app.request.size", Value: model.DoubleValue(math.Round(g.rng.Float64()*4096*100) / 100)},
	}
}

func (g *generator) statement(db [3]string) (op, stmt string) {
	if db[0] == "redis" {
		op = []string{"HGET", "HMSET", "EXPIRE", "DEL"}[g.rng.IntN(4)]
		return op, fmt.Sprintf("%s %s:%08x", op, db[2], g.rng.Uint32())
	}
	op = []string{"SELECT", "SELECT", "INSERT", "UPDATE"}[g.rng.IntN(4)]
	switch op {
	case "SELECT":
		stmt = fmt.Sprintf("SELECT * FROM %s WHERE id = $1 LIMIT %d", db[2], 1+g.rng.IntN(50))
	case "INSERT":
		stmt = fmt.Sprintf("INSERT INTO %s (id, data) VALUES ($1, $2)", db[2])
	default:
		stmt = fmt.Sprintf("UPDATE %s SET data = $2 WHERE id = $1", db[2])
	}
	return op + " " + db[1] + "." + db[2], stmt
}

func (g *generator) dbAttrs(db [3]string, op, stmt string) []model.KeyValue {
	port := int64(5432)
	if db[0] == "redis" {
		port = 6379
	}
	return []model.KeyValue{
		{Key: "db.system", Value: model.StringValue(db[0])},
		{Key: "db.name", Value: model.StringValue(db[1])},
		{Key: "db.statement", Value: model.StringValue(stmt)},
		{Key: "db.operation", Value: model.StringValue(firstWord(op))},
		{Key: "db.sql.table", Value: model.StringValue(db[2])},
		{Key: "db.user", Value: model.StringValue("shop")},
		{Key: "net.peer.name", Value: model.StringValue(db[0] + ".shop.svc")},
		{Key: "net.peer.port", Value: model.IntValue(port)},
		{Key: "db.rows_affected", Value: model.IntValue(int64(g.rng.IntN(100)))},
		{Key: "db.cached", Value: model.BoolValue(g.rng.IntN(3) == 0)},
	}
}

func firstWord(s string) string {
	for i := range len(s) {
		if s[i] == ' ' {
			return s[:i]
		}
	}
	return s
}

func (g *generator) messagingAttrs(svc, op string) []model.KeyValue {
	return []model.KeyValue{
		{Key: "messaging.system", Value: model.StringValue("kafka")},
		{Key: "messaging.destination.name", Value: model.StringValue("orders")},
		{Key: "messaging.operation", Value: model.StringValue(op)},
		{Key: "messaging.message.id", Value: model.StringValue(fmt.Sprintf("%016x", g.rng.Uint64()))},
		{Key: "messaging.kafka.partition", Value: model.IntValue(int64(g.rng.IntN(12)))},
		{Key: "messaging.kafka.offset", Value: model.IntValue(int64(g.rng.IntN(1 << 30)))},
		{Key: "messaging.kafka.consumer.group", Value: model.StringValue(svc)},
		{Key: "messaging.message.payload_size_bytes", Value: model.IntValue(int64(100 + g.rng.IntN(10000)))},
		{Key: "net.peer.name", Value: model.StringValue("kafka.shop.svc")},
		{Key: "net.peer.port", Value: model.IntValue(9092)},
	}
}

func (g *generator) internalAttrs(svc, fn string) []model.KeyValue {
	return []model.KeyValue{
		{Key: "code.function", Value: model.StringValue(fn)},
		{Key: "code.namespace", Value: model.StringValue("shop." + svc)},
		{Key: "code.filepath", Value: model.StringValue(svc + "/" + fn + ".go")},
		{Key: "code.lineno", Value: model.IntValue(int64(10 + g.rng.IntN(500)))},
		{Key: "thread.id", Value: model.IntValue(int64(1 + g.rng.IntN(64)))},
		{Key: "app.cache_hit", Value: model.BoolValue(g.rng.IntN(2) == 0)},
		{Key: "app.items", Value: model.IntValue(int64(g.rng.IntN(20)))},
		{Key: "app.ratio", Value: model.DoubleValue(math.Round(g.rng.Float64()*1000) / 1000)},
		{Key: "app.user.id", Value: model.StringValue(fmt.Sprintf("user-%d", g.rng.IntN(5000)))},
		{Key: "app.currency", Value: model.StringValue([]string{"USD", "EUR", "JPY", "CHF"}[g.rng.IntN(4)])},
	}
}
