// Command loadgen drives a Clew (or any OTLP/gRPC receiver) at maximum
// durable throughput without eating the CPU it measures: it encodes a few
// realistic OTLP export requests once, then replays them over several gRPC
// connections, stamping fresh trace IDs into the encoded bytes so every
// span is unique. It then measures trace-by-ID and search latency through
// the Jaeger HTTP API. bench/run.sh drives it; see docs/benchmarks.md.
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

const exportMethod = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"

func main() {
	var (
		endpoint  = flag.String("otlp", "127.0.0.1:4317", "OTLP/gRPC address")
		api       = flag.String("api", "http://127.0.0.1:16686", "Clew HTTP API base URL (for the query phase)")
		conns     = flag.Int("conns", 4, "gRPC connections (one sender each)")
		inflight  = flag.Int("inflight", 4, "concurrent requests per connection")
		duration  = flag.Duration("duration", 60*time.Second, "how long to send")
		batch     = flag.Int("batch", 512, "spans per request")
		perTrace  = flag.Int("spans-per-trace", 8, "spans per trace")
		templates = flag.Int("templates", 16, "distinct encoded requests to cycle through")
		queries   = flag.Int("queries", 200, "trace-by-ID and search requests in the query phase (0 skips it)")
		queryOnly = flag.Bool("query-only", false, "skip sending; query traces sent by an earlier run with the same -seed")
		seed      = flag.Uint64("seed", 1, "seed of the trace ID sequence")
		maxTraces = flag.Uint64("sent-traces", 0, "with -query-only: how many traces the earlier run sent")
	)
	flag.Parse()

	var sentTraces uint64
	if !*queryOnly {
		sentTraces = send(*endpoint, *conns, *inflight, *duration, *batch, *perTrace, *templates, *seed)
	} else {
		sentTraces = *maxTraces
	}
	if *queries > 0 && sentTraces > 0 {
		query(*api, *queries, sentTraces, *seed)
	}
}

// template is one encoded request, the offsets of every trace ID in it,
// and the offsets of every timestamp (fixed64), so that each replay can
// carry fresh IDs and current times.
type template struct {
	raw     []byte
	offsets [][]int // offsets[i]: positions of trace i's ID bytes
	stamps  []int   // positions of start and end timestamps
	built   time.Time
}

// buildTemplate encodes a request of realistic spans: a few services and
// operations, ten attributes per span, random span IDs.
func buildTemplate(r *rand.Rand, batch, perTrace int) template {
	services := []string{"frontend", "catalog", "checkout", "payment", "orders", "inventory"}
	ops := []string{"GET /api/products", "SELECT products", "POST /api/checkout", "charge", "reserve", "publish order"}
	nTraces := (batch + perTrace - 1) / perTrace
	td := ptrace.NewTraces()
	markers := make([][16]byte, nTraces)
	now := time.Now()
	stamps := map[uint64]bool{}
	for ti := 0; ti < nTraces; ti++ {
		binary.BigEndian.PutUint64(markers[ti][:8], r.Uint64()|1<<63)
		binary.BigEndian.PutUint64(markers[ti][8:], r.Uint64())
		var parent pcommon.SpanID
		for si := 0; si < perTrace && ti*perTrace+si < batch; si++ {
			svc := services[(ti+si)%len(services)]
			rs := td.ResourceSpans().AppendEmpty()
			rs.Resource().Attributes().PutStr("service.name", svc)
			rs.Resource().Attributes().PutStr("service.version", "1.4.2")
			ss := rs.ScopeSpans().AppendEmpty()
			ss.Scope().SetName("go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp")
			sp := ss.Spans().AppendEmpty()
			sp.SetTraceID(markers[ti])
			var sid pcommon.SpanID
			binary.BigEndian.PutUint64(sid[:], r.Uint64()|1)
			sp.SetSpanID(sid)
			sp.SetParentSpanID(parent)
			parent = sid
			sp.SetName(ops[(ti+si)%len(ops)])
			sp.SetKind(ptrace.SpanKind(2 + si%2))
			// Traces of one request start a microsecond apart, so that
			// "newest first" is decided by time, not by trace-ID ties.
			start := now.Add(time.Duration(ti)*time.Microsecond + time.Duration(si)*time.Millisecond)
			end := start.Add(time.Duration(1+r.IntN(50_000)) * time.Microsecond)
			sp.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
			sp.SetEndTimestamp(pcommon.NewTimestampFromTime(end))
			stamps[uint64(start.UnixNano())] = true
			stamps[uint64(end.UnixNano())] = true
			a := sp.Attributes()
			a.PutStr("http.method", []string{"GET", "POST"}[si%2])
			a.PutInt("http.status_code", []int64{200, 200, 200, 404, 500}[r.IntN(5)])
			a.PutStr("http.route", "/api/products/{id}")
			a.PutStr("net.peer.name", svc+".internal")
			a.PutInt("net.peer.port", 8080)
			a.PutStr("user.id", fmt.Sprintf("user-%d", r.IntN(1000)))
			a.PutStr("db.system", "postgresql")
			a.PutBool("cache.hit", r.IntN(2) == 0)
			a.PutDouble("order.amount", float64(r.IntN(10000))/100)
			a.PutStr("region", []string{"eu-west-1", "us-east-1"}[r.IntN(2)])
			if r.IntN(20) == 0 {
				sp.Status().SetCode(ptrace.StatusCodeError)
			}
		}
	}
	raw, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		panic(err)
	}
	t := template{raw: raw, offsets: make([][]int, nTraces), built: now}
	for v := range stamps {
		var enc [8]byte
		binary.LittleEndian.PutUint64(enc[:], v)
		for off := 0; ; {
			i := bytes.Index(raw[off:], enc[:])
			if i < 0 {
				break
			}
			t.stamps = append(t.stamps, off+i)
			off += i + 8
		}
	}
	for ti, m := range markers {
		for off := 0; ; {
			i := bytes.Index(raw[off:], m[:])
			if i < 0 {
				break
			}
			t.offsets[ti] = append(t.offsets[ti], off+i)
			off += i + 16
		}
	}
	return t
}

// traceID returns the n-th trace ID of the run's sequence.
func traceID(seed, n uint64) [16]byte {
	var id [16]byte
	binary.BigEndian.PutUint64(id[:8], seed<<48|0xc1e3)
	binary.BigEndian.PutUint64(id[8:], n+1)
	return id
}

func send(endpoint string, conns, inflight int, d time.Duration, batch, perTrace, nTemplates int, seed uint64) uint64 {
	r := rand.New(rand.NewPCG(seed, 42))
	tpls := make([]template, nTemplates)
	for i := range tpls {
		tpls[i] = buildTemplate(r, batch, perTrace)
	}
	var nextTrace, spansOK, spansFailed, reqFailed atomic.Uint64
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < conns; c++ {
		cc, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{}), grpc.CallContentSubtype("proto")))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer cc.Close()
		for w := 0; w < inflight; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				var buf []byte
				var resp []byte
				for i := w; time.Now().Before(deadline); i++ {
					t := &tpls[i%len(tpls)]
					buf = append(buf[:0], t.raw...)
					first := nextTrace.Add(uint64(len(t.offsets))) - uint64(len(t.offsets))
					shift := uint64(time.Since(t.built))
					for _, o := range t.stamps {
						binary.LittleEndian.PutUint64(buf[o:], binary.LittleEndian.Uint64(buf[o:])+shift)
					}
					for ti, offs := range t.offsets {
						id := traceID(seed, first+uint64(ti))
						for _, o := range offs {
							copy(buf[o:], id[:])
						}
					}
					n := uint64(batch)
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					err := cc.Invoke(ctx, exportMethod, buf, &resp)
					cancel()
					if err != nil {
						spansFailed.Add(n)
						reqFailed.Add(1)
						time.Sleep(50 * time.Millisecond)
						continue
					}
					spansOK.Add(n)
				}
			}(w)
		}
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	out := map[string]any{
		"seconds": el, "spans_acked": spansOK.Load(), "spans_failed": spansFailed.Load(),
		"requests_failed": reqFailed.Load(), "spans_per_second": float64(spansOK.Load()) / el,
		"traces_sent": nextTrace.Load(),
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	return nextTrace.Load()
}

// query measures trace-by-ID (no time hint) and service+attribute search
// latency through the Jaeger API.
func query(api string, n int, traces, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 7))
	client := &http.Client{Timeout: 30 * time.Second}
	measure := func(name string, urlFor func() string) {
		var lat []float64
		fails := 0
		for i := 0; i < n; i++ {
			u := urlFor()
			t0 := time.Now()
			resp, err := client.Get(u)
			if err != nil || resp.StatusCode != 200 {
				fails++
				if resp != nil {
					resp.Body.Close()
				}
				continue
			}
			var body struct{ Data []json.RawMessage }
			json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			lat = append(lat, float64(time.Since(t0).Microseconds())/1000)
			if len(body.Data) == 0 {
				fails++
			}
		}
		sort.Float64s(lat)
		pct := func(p float64) float64 {
			if len(lat) == 0 {
				return 0
			}
			return lat[int(p*float64(len(lat)-1))]
		}
		b, _ := json.Marshal(map[string]any{"query": name, "n": n, "empty_or_failed": fails, "p50_ms": pct(0.5), "p99_ms": pct(0.99)})
		fmt.Println(string(b))
	}
	measure("trace_by_id", func() string {
		id := traceID(seed, r.Uint64N(traces))
		return fmt.Sprintf("%s/api/traces/%x", api, id)
	})
	measure("search_service_attr_1h", func() string {
		v := url.Values{"service": {"payment"}, "tags": {`{"region":"eu-west-1"}`}, "lookback": {"1h"}, "limit": {"20"}}
		return api + "/api/traces?" + v.Encode()
	})
}

// rawCodec sends pre-encoded protobuf bytes as they are.
type rawCodec struct{}

func (rawCodec) Name() string { return "clewraw" }
func (rawCodec) Marshal(v any) ([]byte, error) {
	return v.([]byte), nil
}
func (rawCodec) Unmarshal(data []byte, v any) error {
	p := v.(*[]byte)
	*p = append((*p)[:0], data...)
	return nil
}
