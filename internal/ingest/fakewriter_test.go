package ingest

import (
	"context"
	"sync"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/prometheus/client_golang/prometheus"
)

// fakeWriter is an in-memory storage.Writer that records what it stores
// and can be told to fail or to block.
type fakeWriter struct {
	mu    sync.Mutex
	spans []*model.Span
	err   error
	// block, when set, makes Write announce itself on entered and wait
	// until block is closed or ctx is done.
	block   chan struct{}
	entered chan struct{}
}

func (f *fakeWriter) Write(ctx context.Context, spans []*model.Span) error {
	f.mu.Lock()
	block, entered, err := f.block, f.entered, f.err
	f.mu.Unlock()
	if block != nil {
		if entered != nil {
			entered <- struct{}{}
		}
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.spans = append(f.spans, spans...)
	return nil
}

func (f *fakeWriter) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeWriter) stored() []*model.Span {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*model.Span(nil), f.spans...)
}

// metricValue returns the value of the counter, gauge or histogram count
// name with exactly the given labels, or 0 when absent.
func metricValue(reg *prometheus.Registry, name string, labels map[string]string) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		panic(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, lp := range m.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return 0
}
