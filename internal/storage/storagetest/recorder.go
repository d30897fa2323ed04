package storagetest

import (
	"context"
	"sync"

	"github.com/clew-tracing/clew/internal/model"
)

// Recorder is an in-memory storage.Writer for testing the code that
// writes (ingest, the receivers): it records what it stores, fails with
// an error it is given, and can hold writes until released. The zero
// value records. It is safe for concurrent use.
type Recorder struct {
	mu    sync.Mutex
	spans []*model.Span
	err   error
	// hold, when set, makes Write announce itself on entered (when set)
	// and wait until hold is closed or its context ends.
	hold    chan struct{}
	entered chan struct{}
}

// Write records spans, or fails with the error set by SetErr; while the
// recorder holds writes it first waits for Release.
func (r *Recorder) Write(ctx context.Context, spans []*model.Span) error {
	r.mu.Lock()
	hold, entered, err := r.hold, r.entered, r.err
	r.mu.Unlock()
	if hold != nil {
		if entered != nil {
			entered <- struct{}{}
		}
		select {
		case <-hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.spans = append(r.spans, spans...)
	return nil
}

// SetErr makes later writes fail with err (nil: succeed).
func (r *Recorder) SetErr(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err = err
}

// Hold makes later writes wait until Release or the end of their context.
// With announce, each held write first sends on the returned channel,
// which the test must receive from; otherwise it returns nil.
func (r *Recorder) Hold(announce bool) <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hold = make(chan struct{})
	r.entered = nil
	if announce {
		r.entered = make(chan struct{})
	}
	return r.entered
}

// Release lets held writes finish and later ones pass straight through.
func (r *Recorder) Release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hold != nil {
		close(r.hold)
	}
	r.hold, r.entered = nil, nil
}

// Stored returns a copy of the spans recorded so far.
func (r *Recorder) Stored() []*model.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*model.Span(nil), r.spans...)
}
