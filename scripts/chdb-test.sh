#!/usr/bin/env bash
# Runs the ClickHouse backend's modern-dialect test on a modern
# ClickHouse engine (26.5) in process, through chDB. libchdb.so comes from
# npm's @chdb/lib-linux-x64-gnu (a 559 MB download, cached in
# $CLEW_CHDB_DIR, default ~/.cache/clew-chdb); the Go side is
# github.com/chdb-io/chdb-go (purego, no cgo). scripts/test.sh runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${CLEW_CHDB_DIR:-$HOME/.cache/clew-chdb}
lib=$dir/node_modules/@chdb/lib-linux-x64-gnu/libchdb.so
if [ ! -f "$lib" ]; then
	mkdir -p "$dir"
	(cd "$dir" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error @chdb/lib-linux-x64-gnu@26.5.3)
fi
CHDB_LIB_PATH=$lib go test -count=1 -tags chdb ./internal/storage/clickhouse -run Chdb -v "$@"
