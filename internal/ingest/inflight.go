package ingest

import "sync/atomic"

// Acquire reserves n bytes of the in-flight budget for a request that is
// about to be read, decoded and written, and returns the function that
// gives them back. Receivers call it with the request's size before
// decoding (and again as a body of unknown length grows) and call release
// once the write has returned.
//
// When the reservation would pass Options.MaxInFlightBytes, Acquire
// returns ErrOverloaded at once: nothing queues, so memory stays bounded
// whatever clients do. NB: a single request larger than the whole budget
// is still admitted when nothing else is in flight, so that a budget
// smaller than a receiver's body limit slows such requests down instead
// of refusing them forever.
//
// release is safe to call more than once and is never nil, so callers may
// defer it before checking err.
func (in *Ingester) Acquire(n int64) (release func(), err error) {
	if n < 0 {
		n = 0
	}
	for {
		cur := in.inflight.Load()
		if cur > 0 && cur+n > in.opts.MaxInFlightBytes {
			in.m.overloaded.Inc()
			return func() {}, ErrOverloaded
		}
		if in.inflight.CompareAndSwap(cur, cur+n) {
			break
		}
	}
	var done atomic.Bool
	return func() {
		if done.CompareAndSwap(false, true) {
			in.inflight.Add(-n)
		}
	}, nil
}

// InFlightBytes returns the bytes currently reserved by Acquire.
func (in *Ingester) InFlightBytes() int64 { return in.inflight.Load() }
