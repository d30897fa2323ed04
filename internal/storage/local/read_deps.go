package local

import (
	"bytes"
	"context"
	"math"
	"slices"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/local/block"
)

// Dependencies returns the service edges of the child spans starting in r.
//
// Each part counts the edges within itself, streaming, without holding
// traces in memory. A trace whose spans lie in several parts (its parent
// and child spans cut into different blocks, or a span both replayed from
// the WAL and in a block) would then lose the edges between parts, or
// count one twice. Such traces are found among the recent parts (the heads
// and level-0 blocks: compaction brings a trace's spans together later),
// and counted again from their merged, deduplicated spans in place of the
// per-part counts.
func (db *DB) Dependencies(ctx context.Context, r storage.TimeRange) ([]storage.Dependency, error) {
	s, err := db.begin()
	if err != nil {
		return nil, err
	}
	defer db.end(s)
	acc := make(map[storage.DependencyKey]*storage.Dependency)
	var recent []*part
	for i := range s.parts {
		p := &s.parts[i]
		if !r.Overlaps(p.minTime, p.maxTime) {
			continue
		}
		err := p.r.Dependencies(ctx, r, acc)
		if err != nil {
			if err := db.partErr(*p, err); err != nil {
				return nil, err
			}
			continue
		}
		if p.blk == nil || p.blk.meta.Level == 0 {
			recent = append(recent, p)
		}
	}
	if len(recent) > 1 {
		// NB: count such a trace from its merged spans in place of the
		// per-part counts, which miss the edges between parts and count
		// a span stored twice twice.
		err := db.forSplitTraces(ctx, recent, r, func(perPart [][]*model.Span, merged []*model.Span) {
			for _, spans := range perPart {
				sub := make(map[storage.DependencyKey]*storage.Dependency)
				storage.AddDependencies(sub, spans, r)
				subtractDependencies(acc, sub)
			}
			storage.AddDependencies(acc, merged, r)
		})
		if err != nil {
			return nil, err
		}
	}
	return storage.SortedDependencies(acc), nil
}

// forSplitTraces calls f for every trace with spans starting in r in more
// than one of parts, with the trace's spans in each of those parts and its
// merged, deduplicated spans.
func (db *DB) forSplitTraces(ctx context.Context, parts []*part, r storage.TimeRange, f func(perPart [][]*model.Span, merged []*model.Span)) error {
	m, err := storage.NewMatcher(&storage.Query{Range: r})
	if err != nil {
		return err
	}
	where := make(map[model.TraceID][]int32)
	for i, p := range parts {
		var hits []block.Hit
		var err error
		if b, ok := p.r.(*block.Block); ok {
			// NB: a set is wanted; SearchAll skips ranking the hits.
			hits, err = b.SearchAll(ctx, m)
		} else {
			hits, err = p.r.SearchAfter(ctx, m, math.MaxInt, nil)
		}
		if err != nil {
			if err := db.partErr(*p, err); err != nil {
				return err
			}
			continue
		}
		for _, h := range hits {
			where[h.TraceID] = append(where[h.TraceID], int32(i))
		}
	}
	// NB: look the split traces up in trace-ID order and in chunks, part
	// by part with one batched lookup each: a block's row groups are
	// ordered by trace ID, so each is decoded about once, where a lookup
	// per trace would decode one per trace and part (seconds for the
	// thousands of traces a busy cut splits).
	var split []model.TraceID
	for id, ps := range where {
		if len(ps) >= 2 {
			split = append(split, id)
		}
	}
	slices.SortFunc(split, func(a, b model.TraceID) int { return bytes.Compare(a[:], b[:]) })
	for chunk := range slices.Chunk(split, splitTraceChunk) {
		perTrace := make([][][]*model.Span, len(chunk))
		for i, p := range parts {
			var ids []model.TraceID
			var at []int
			for k, id := range chunk {
				if slices.Contains(where[id], int32(i)) {
					ids = append(ids, id)
					at = append(at, k)
				}
			}
			if len(ids) == 0 {
				continue
			}
			found, err := partTraces(ctx, p.r, ids)
			if err != nil {
				if err := db.partErr(*p, err); err != nil {
					return err
				}
				continue
			}
			for j, spans := range found {
				perTrace[at[j]] = append(perTrace[at[j]], spans)
			}
		}
		for _, perPart := range perTrace {
			var merged []*model.Span
			for _, spans := range perPart {
				merged = append(merged, spans...)
			}
			f(perPart, dedupeSpans(merged))
		}
	}
	return nil
}

// splitTraceChunk bounds the split traces whose spans a recount holds at
// once.
const splitTraceChunk = 2048

// partTraces returns the spans of each of ids in one part, with at least
// the fields service edges need (Block.TracesLight for a block, a lookup
// per trace in a head).
func partTraces(ctx context.Context, r reader, ids []model.TraceID) ([][]*model.Span, error) {
	if b, ok := r.(*block.Block); ok {
		return b.TracesLight(ctx, ids)
	}
	out := make([][]*model.Span, len(ids))
	for i, id := range ids {
		spans, err := r.Trace(ctx, id)
		if err != nil {
			return nil, err
		}
		out[i] = spans
	}
	return out, nil
}

// subtractDependencies removes the counts of sub from acc, dropping edges
// that reach zero.
func subtractDependencies(acc, sub map[storage.DependencyKey]*storage.Dependency) {
	for k, d := range sub {
		a := acc[k]
		if a == nil {
			continue
		}
		a.CallCount -= min(a.CallCount, d.CallCount)
		a.ErrorCount -= min(a.ErrorCount, d.ErrorCount)
		if a.CallCount == 0 {
			delete(acc, k)
		}
	}
}
