package analysis

import (
	"slices"

	"github.com/clew-tracing/clew/internal/model"
)

// Waterfall is a trace laid out for drawing: every span in tree order with
// its corrected offset, and the marks a reader looks for (critical path,
// errors). It is the JSON document of GET /api/clew/traces/{id}/waterfall.
type Waterfall struct {
	TraceID    string `json:"traceID"`
	RootSpanID string `json:"rootSpanID"`
	// StartUnixNano is the root's start; row offsets are relative to it.
	StartUnixNano uint64         `json:"startUnixNano"`
	DurationNs    uint64         `json:"durationNs"`
	SpanCount     int            `json:"spanCount"`
	Spans         []WaterfallRow `json:"spans"`
	Warnings      []string       `json:"warnings"`
}

// WaterfallRow is one span of a [Waterfall].
type WaterfallRow struct {
	SpanID       string `json:"spanID"`
	ParentSpanID string `json:"parentSpanID,omitempty"`
	Depth        int    `json:"depth"`
	Service      string `json:"service"`
	Name         string `json:"name"`
	Kind         string `json:"kind"`
	// StartNs is the corrected start as an offset from the root's start
	// (negative for a span that began earlier, such as an extra root).
	StartNs    int64  `json:"startNs"`
	DurationNs uint64 `json:"durationNs"`
	SelfTimeNs uint64 `json:"selfTimeNs"`
	// SkewNs is the clock-skew correction applied to the span.
	SkewNs int64 `json:"skewNs,omitempty"`
	// CriticalNs is the span's contribution to the critical path (0: not on it).
	CriticalNs  uint64 `json:"criticalNs"`
	Error       bool   `json:"error"`
	ErrorOrigin bool   `json:"errorOrigin,omitempty"`
	Recovered   bool   `json:"recovered,omitempty"`
	Message     string `json:"message,omitempty"`
	Async       bool   `json:"async,omitempty"`
	Orphan      bool   `json:"orphan,omitempty"`
}

// NewWaterfall lays out an analysed trace.
func NewWaterfall(id model.TraceID, a *Analysis) *Waterfall {
	t := a.Tree
	w := &Waterfall{TraceID: id.String(), SpanCount: len(t.Nodes), Spans: make([]WaterfallRow, 0, len(t.Nodes)),
		Warnings: slices.Clone(t.Warnings)}
	if w.Warnings == nil {
		w.Warnings = []string{}
	}
	if t.Root == nil {
		return w
	}
	start := t.Root.Start
	w.RootSpanID, w.StartUnixNano, w.DurationNs = t.Root.Span.SpanID.String(), start, a.End-start
	recovered := make(map[*Node]bool, len(a.Errors.Recovered))
	for _, r := range a.Errors.Recovered {
		recovered[r.Attempt] = true
	}
	for _, nd := range t.Nodes {
		s := nd.Span
		row := WaterfallRow{
			SpanID: s.SpanID.String(), Depth: nd.Depth, Service: s.Service(), Name: s.Name, Kind: s.Kind.String(),
			StartNs: int64(nd.Start) - int64(start), DurationNs: nd.Duration(), SelfTimeNs: a.Self[nd.Index],
			SkewNs: nd.Skew, CriticalNs: a.OnPath[nd.Index], Error: a.Errors.Failed[nd.Index],
			ErrorOrigin: nd == a.Errors.Origin, Recovered: recovered[nd], Async: nd.Async, Orphan: nd.Orphan,
		}
		if !s.ParentSpanID.IsZero() {
			row.ParentSpanID = s.ParentSpanID.String()
		}
		if row.Error {
			row.Message, _ = ErrorDetail(s)
		}
		w.Spans = append(w.Spans, row)
	}
	return w
}
