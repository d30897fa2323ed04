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

echo "== go test"
# -p 2: this machine has two cores; more parallel packages only thrash.
go test -count=1 -p 2 -timeout 15m ./...

echo "== go test -race (storage engine and ingest: the concurrent code)"
go test -count=1 -race -timeout 15m ./internal/storage/... ./internal/ingest/...

echo "== go test -race (the demo shop: a dozen concurrent services)"
go test -count=1 -race -timeout 10m ./demo/...
