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

echo "== go test"
# -p 2: this machine has two cores; more parallel packages only thrash.
go test -count=1 -p 2 -timeout 15m ./...

echo "== go test -race (storage engine and ingest: the concurrent code)"
go test -count=1 -race -timeout 15m ./internal/storage/... ./internal/ingest/...
