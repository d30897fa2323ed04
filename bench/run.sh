#!/usr/bin/env bash
# Measures Clew end to end on this machine: starts `clew serve` on a fresh
# data directory, replays pre-encoded OTLP/gRPC requests at full speed
# (bench/loadgen), then reports spans/s acknowledged, CPU seconds per
# million spans, peak RSS, bytes on disk per span, and trace-by-ID and
# search latency through the Jaeger API.
#
#   bench/run.sh [seconds] [extra clew serve flags...]
#
# Optional: TELEMETRYGEN=1 also runs the collector-contrib telemetrygen
# load generator for a realistic mix afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}; shift || true
out=bench/out; mkdir -p "$out"
data=$(mktemp -d /tmp/clew-bench.XXXXXX)
go build -o "$out/clew" ./cmd/clew
go build -o "$out/loadgen" ./bench/loadgen

"$out/clew" serve --data-dir "$data" --otlp-grpc-addr 127.0.0.1:24317 --otlp-http-addr 127.0.0.1:24318 \
	--zipkin-addr 127.0.0.1:29411 --http-addr 127.0.0.1:26686 --log-level warn "$@" 2>"$out/clew.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:26686/readyz >/dev/null && break; sleep 0.1; done

cpu() { awk '{print $14+$15}' /proc/$pid/stat; }
tck=$(getconf CLK_TCK)
c0=$(cpu)
"$out/loadgen" -otlp 127.0.0.1:24317 -api http://127.0.0.1:26686 -duration "${secs}s" -queries 0 | tee "$out/send.json"
c1=$(cpu)
acked=$(sed -n 's/.*"spans_acked":\([0-9]*\).*/\1/p' "$out/send.json")
traces=$(sed -n 's/.*"traces_sent":\([0-9]*\).*/\1/p' "$out/send.json")
echo "server CPU seconds: $(( (c1 - c0) / tck )) ; CPU µs per span: $(awk -v c=$((c1-c0)) -v t=$tck -v n=$acked 'BEGIN{printf "%.2f", c/t*1e6/n}')"
echo "peak RSS: $(awk '/VmHWM/{print $2/1024 " MiB"}' /proc/$pid/status)"

# Let the engine cut and compact what it holds, then measure size and queries.
sleep "${SETTLE:-90}"
bytes=$(du -sb "$data" | cut -f1)
echo "on disk: $bytes bytes, $(awk -v b=$bytes -v n=$acked 'BEGIN{printf "%.1f", b/n}') B/span (blocks $(du -sb "$data/blocks" 2>/dev/null | cut -f1), wal $(du -sb "$data/wal" 2>/dev/null | cut -f1))"
"$out/loadgen" -api http://127.0.0.1:26686 -query-only -sent-traces "$traces" -queries 300
echo "peak RSS after queries: $(awk '/VmHWM/{print $2/1024 " MiB"}' /proc/$pid/status)"

if [ "${TELEMETRYGEN:-0}" = 1 ]; then
	go run github.com/open-telemetry/opentelemetry-collector-contrib/cmd/telemetrygen@v0.161.0 traces \
		--otlp-endpoint 127.0.0.1:24317 --otlp-insecure --duration 20s --workers 2 --rate 2000 --child-spans 8
fi
