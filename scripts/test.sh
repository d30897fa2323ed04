#!/usr/bin/env bash
# Runs every Clew test on this machine, installing what the tests need
# first. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

export GOFLAGS="${GOFLAGS:-} -mod=readonly"

echo "== go: build, gofmt, vet"
go build ./...
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...

echo "== examples: Node.js and the Fastify example's packages"
# The Node.js example's test (examples/node-fastify, run by go test below)
# needs node and its locked packages; with CLEW_REQUIRE_NODE_EXAMPLE=1 it
# fails instead of skipping when they are missing.
if ! command -v npm >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		apt-get update -qq && apt-get install -y -qq nodejs
		command -v npm >/dev/null 2>&1 || apt-get install -y -qq npm
	else
		echo "Node.js 20+ with npm is needed for examples/node-fastify"; exit 1
	fi
fi
(cd examples/node-fastify && npm ci --no-audit --no-fund --loglevel=error)
export CLEW_REQUIRE_NODE_EXAMPLE=1

echo "== ui: npm ci, build, and the committed bundle matches the sources"
# ui/dist is committed (go build embeds it, so no Node is needed to run
# Clew). Rebuild it from the locked packages and fail when it differs,
# including new or deleted files.
(cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent)
if [ -z "$(git ls-files -- ui/dist 2>/dev/null)" ]; then
	# Not committed yet (or no git): nothing to compare with. A clone
	# without ui/dist does not build at all, so this cannot pass CI unseen.
	echo "warning: ui/dist is not committed yet; skipping the comparison"
elif [ -n "$(git status --porcelain -- ui/dist)" ]; then
	git status --short -- ui/dist
	git diff --stat -- ui/dist
	echo "ui/dist does not match ui/src: run 'npm run build' in ui/ and commit ui/dist"; exit 1
fi

echo "== ui: Chromium for the browser tests"
# The browser tests (ui/browser_test.go, run by go test below) drive
# Debian's Chromium with playwright-core; with CLEW_REQUIRE_UI_TESTS=1
# they fail instead of skipping when it is missing.
if ! command -v chromium >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		apt-get update -qq && apt-get install -y -qq chromium
	else
		echo "Chromium (Debian package chromium) is needed for the UI's browser tests"; exit 1
	fi
fi
export CLEW_REQUIRE_UI_TESTS=1
export CLEW_ARTIFACTS="${CLEW_ARTIFACTS:-$PWD/ui/test-artifacts}"

echo "== ClickHouse 18.16 (Debian) for the clickhouse storage backend's tests"
# scripts/clickhouse.sh installs it with apt when missing and runs a
# throw-away server on loopback (native :19000, HTTP :18123; CH_TCP and
# CH_HTTP move it) until this script exits. The cluster tests start their
# own ZooKeeper and two servers (internal/storage/clickhouse/chtest), so
# ZooKeeper is installed too.
# shellcheck source=scripts/clickhouse.sh
source scripts/clickhouse.sh
trap ch_stop EXIT
ch_install cluster
ch_start
export CLEW_REQUIRE_CLICKHOUSE=1

echo "== chDB: the modern ClickHouse dialect on ClickHouse 26.5, in process"
# scripts/chdb-test.sh fetches libchdb.so from npm (about 530 MB, cached in
# ~/.cache/clew-chdb) and runs the chdb-tagged test against it.
go vet -tags chdb ./internal/storage/clickhouse
bash scripts/chdb-test.sh

echo "== go test"
# -p 2: this machine has two cores; more parallel packages only thrash.
go test -count=1 -p 2 -timeout 15m ./...

echo "== go test -race (storage engine and ingest: the concurrent code)"
go test -count=1 -race -timeout 15m ./internal/storage/... ./internal/ingest/...

echo "== go test -race (the demo shop: a dozen concurrent services)"
go test -count=1 -race -timeout 10m ./demo/...
