package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// ClickHouse error codes that mean "too busy, retry later".
const (
	codeTooManyParts             = 252
	codeTooManySimultaneousQuery = 202
	codeMemoryLimitExceeded      = 241
)

// batch is the spans of one insert and the writers waiting for it.
type batch struct {
	spans []*model.Span
	first time.Time
	done  chan struct{}
	err   error
}

// writer groups concurrent Writes into inserts: a batch goes when it holds
// BatchSize spans or has waited FlushInterval, and only when an insert slot
// is free, so that under load batches grow instead of inserts piling up.
// Every Write waits for the insert of its batch: a nil return means
// ClickHouse accepted the spans.
type writer struct {
	db    *DB
	mu    sync.Mutex
	cur   *batch
	queue int // spans accepted and not yet inserted
	kick  chan struct{}
	stop  chan struct{}
	done  chan struct{}
	slots chan struct{}
	wg    sync.WaitGroup
}

func newWriter(db *DB) *writer {
	w := &writer{
		db:    db,
		cur:   &batch{done: make(chan struct{})},
		kick:  make(chan struct{}, 1),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
		slots: make(chan struct{}, db.opts.MaxConcurrentInserts),
	}
	go w.loop()
	return w
}

// Write stores spans and returns once ClickHouse has accepted them, or
// with the insert's error (the client should retry: nothing of a failed
// insert counts as stored), storage.ErrOverloaded when too many spans
// are waiting, or ctx's error.
func (db *DB) Write(ctx context.Context, spans []*model.Span) error {
	if err := db.check(); err != nil {
		return err
	}
	if len(spans) == 0 {
		return nil
	}
	return db.w.add(ctx, spans)
}

func (w *writer) add(ctx context.Context, spans []*model.Span) error {
	opts := &w.db.opts
	w.mu.Lock()
	if w.db.closed.Load() {
		w.mu.Unlock()
		return storage.ErrClosed
	}
	if w.queue > 0 && w.queue+len(spans) > opts.MaxPendingSpans {
		w.mu.Unlock()
		w.db.metrics.overloaded.Inc()
		return fmt.Errorf("clickhouse: %d spans waiting for inserts: %w", w.queue, storage.ErrOverloaded)
	}
	b := w.cur
	if len(b.spans) == 0 {
		b.first = time.Now()
	}
	b.spans = append(b.spans, spans...)
	w.queue += len(spans)
	w.db.metrics.pending.Set(float64(w.queue))
	n := len(b.spans)
	w.mu.Unlock()
	if n == len(spans) || n >= opts.BatchSize {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
	select {
	case <-b.done:
		return b.err
	case <-ctx.Done():
		// The spans may still be inserted; the client will retry and
		// reads tolerate the duplicate.
		return ctx.Err()
	}
}

// loop hands batches to inserts until close.
func (w *writer) loop() {
	defer close(w.done)
	opts := &w.db.opts
	stopping := false
	for {
		w.mu.Lock()
		b := w.cur
		n, first := len(b.spans), b.first
		w.mu.Unlock()
		if n == 0 {
			if stopping {
				w.wg.Wait()
				return
			}
			select {
			case <-w.kick:
			case <-w.stop:
				stopping = true
			}
			continue
		}
		if wait := opts.FlushInterval - time.Since(first); !stopping && n < opts.BatchSize && wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-w.kick:
			case <-t.C:
			case <-w.stop:
				stopping = true
			}
			t.Stop()
			continue
		}
		w.slots <- struct{}{}
		w.mu.Lock()
		b = w.cur
		w.cur = &batch{done: make(chan struct{})}
		w.mu.Unlock()
		w.wg.Go(func() {
			defer func() { <-w.slots }()
			b.err = w.insert(b.spans)
			w.mu.Lock()
			w.queue -= len(b.spans)
			w.db.metrics.pending.Set(float64(w.queue))
			w.mu.Unlock()
			close(b.done)
		})
	}
}

// close inserts what is pending and stops the loop.
func (w *writer) close() error {
	close(w.stop)
	<-w.done
	return nil
}

// insertAttempts is how often an insert is tried: a pooled connection may
// have died with a restarted server, and the second try reconnects.
const insertAttempts = 2

// insert sends spans in one INSERT. The insert is not bound to any one
// writer's context: it serves many writers, and a half-sent batch helps
// nobody.
func (w *writer) insert(spans []*model.Span) error {
	db := w.db
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var err error
	for attempt := range insertAttempts {
		if attempt > 0 {
			time.Sleep(100 * time.Millisecond)
		}
		if err = w.send(ctx, spans); err == nil {
			break
		}
		if isOverload(err) || ctx.Err() != nil {
			break
		}
	}
	db.metrics.insertSeconds.Observe(time.Since(start).Seconds())
	if err != nil {
		db.metrics.insertErrors.Inc()
		db.log.Warn("clickhouse insert failed", "spans", len(spans), "err", err)
		if isOverload(err) {
			return fmt.Errorf("clickhouse insert of %d spans: %w: %w", len(spans), storage.ErrOverloaded, err)
		}
		return fmt.Errorf("clickhouse insert of %d spans: %w", len(spans), err)
	}
	db.metrics.inserts.Inc()
	db.metrics.spansWritten.Add(float64(len(spans)))
	return nil
}

func (w *writer) send(ctx context.Context, spans []*model.Span) error {
	db := w.db
	ctx = ch.Context(ctx, ch.WithSettings(db.settings(db.insertSettings(nil))))
	b, err := db.conn.PrepareBatch(ctx, "INSERT INTO "+db.schema.q(tableInput)+" ("+strings.Join(inputColumns, ", ")+")")
	if err != nil {
		return err
	}
	defer b.Abort()
	var r row
	writeNS := uint64(time.Now().UnixNano())
	for _, s := range spans {
		r.set(s)
		if err := b.Append(
			r.traceID, r.spanID, r.parentID, r.service, s.Name, uint8(s.Kind), uint8(s.StatusCode), s.StatusMessage,
			r.scopeName, r.scopeVersion, s.StartUnixNano, s.EndUnixNano, s.Duration(),
			r.scopes, r.keys, r.types, r.strs, r.nums, writeNS, string(r.blob),
		); err != nil {
			return err
		}
	}
	return b.Send()
}

// insertSettings returns the settings of Clew's inserts, with extra: with
// a cluster an insert returns only once every shard has its rows, and
// with InsertQuorum once that many replicas have them.
func (db *DB) insertSettings(extra ch.Settings) ch.Settings {
	s := ch.Settings{}
	if db.opts.Cluster != "" {
		s["insert_distributed_sync"] = 1
	}
	if db.opts.InsertQuorum > 1 {
		s["insert_quorum"] = db.opts.InsertQuorum
	}
	for k, v := range extra {
		s[k] = v
	}
	return s
}

// isOverload reports ClickHouse errors that mean "busy, retry later".
func isOverload(err error) bool {
	var ex *ch.Exception
	if errors.As(err, &ex) {
		switch ex.Code {
		case codeTooManyParts, codeTooManySimultaneousQuery, codeMemoryLimitExceeded:
			return true
		}
	}
	return false
}
