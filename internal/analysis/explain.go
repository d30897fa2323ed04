package analysis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// ErrEmptyTrace is returned by [Explain] for a trace without spans.
var ErrEmptyTrace = errors.New("trace has no spans")

// Defaults of [Options].
const (
	DefaultLookback           = 24 * time.Hour
	DefaultBaselineOperations = 20
	DefaultMaxListed          = 20
)

// Verdicts and page kinds, as they appear in the JSON.
const (
	verdictAbnormal = "abnormal"
	verdictNormal   = "normal"
	verdictUnknown  = "unknown"
	pageError       = "error"
	pageSlow        = "slow"
	pageLatency     = "latency"
)

// Options configures [Explain]. The zero value explains without baselines
// and reads owners from resource attributes only.
type Options struct {
	// Owners resolves who owns a service; nil reads resource attributes
	// with DefaultOwnerKeys.
	Owners *Owners
	// Baselines looks up the usual durations of operations; nil skips the
	// abnormality check (verdict "unknown").
	Baselines BaselineSource
	// Lookback is the baseline window, ending now; 0 means DefaultLookback.
	Lookback time.Duration
	// Now is the clock that ends the lookback window; nil means time.Now.
	Now func() time.Time
	// BaselineOperations caps the distinct operations looked up per
	// explanation; 0 means DefaultBaselineOperations, negative none.
	BaselineOperations int
	// MaxListed caps lists that grow with the trace (abnormal spans,
	// recovered errors, other error origins); 0 means DefaultMaxListed.
	MaxListed int
}

func (o *Options) ensureDefaults() {
	if o.Lookback <= 0 {
		o.Lookback = DefaultLookback
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.BaselineOperations == 0 {
		o.BaselineOperations = DefaultBaselineOperations
	}
	if o.MaxListed <= 0 {
		o.MaxListed = DefaultMaxListed
	}
}

// Analysis is everything about a trace that follows from its spans alone.
type Analysis struct {
	Tree *Tree
	// Self is each node's self time, by index.
	Self []uint64
	// Path is the critical path, in time order; End is where it ends.
	Path []Segment
	End  uint64
	// Steps is Path merged by span, from the root.
	Steps []Step
	// OnPath is each node's contribution to the critical path, by index.
	OnPath []uint64
	Errors *ErrorReport
}

// Analyze builds the tree of spans and runs every analysis that needs no
// stored history: self time, critical path, error origin. It does not
// modify the spans.
func Analyze(spans []*model.Span) *Analysis {
	t := BuildTree(spans)
	a := &Analysis{Tree: t, Self: SelfTimes(t), Errors: Errors(t)}
	a.Path, a.End = CriticalPath(t)
	a.Steps = Steps(a.Path)
	a.OnPath = make([]uint64, len(t.Nodes))
	for _, s := range a.Steps {
		a.OnPath[s.Node.Index] = s.Contribution
	}
	return a
}

// Explanation answers, for one trace, what a person asks of it. It is the
// JSON document of GET /api/clew/traces/{id}/explain (docs/api-clew.md).
// Times named …Ns are durations, or offsets from StartUnixNano, in ns.
type Explanation struct {
	TraceID     string `json:"traceID"`
	RootSpanID  string `json:"rootSpanID"`
	RootService string `json:"rootService"`
	RootName    string `json:"rootName"`
	// StartUnixNano is the root's start.
	StartUnixNano uint64 `json:"startUnixNano"`
	// DurationNs is the end-to-end latency: from the root's start to the
	// end of the critical path (later than the root's end when async work
	// outlived it).
	DurationNs uint64 `json:"durationNs"`
	// RootDurationNs is the root span's own duration.
	RootDurationNs uint64 `json:"rootDurationNs"`
	SpanCount      int    `json:"spanCount"`
	ErrorCount     int    `json:"errorCount"`

	Services        []ServiceEntry   `json:"services"`
	Calls           []CallEntry      `json:"calls"`
	CriticalPath    []PathEntry      `json:"criticalPath"`
	Bottleneck      *BottleneckEntry `json:"bottleneck"`
	ErrorOrigin     *ErrorOrigin     `json:"errorOrigin"`
	RecoveredErrors []RecoveredError `json:"recoveredErrors"`
	Abnormal        Abnormal         `json:"abnormal"`
	Page            *Page            `json:"page"`
	Summary         string           `json:"summary"`
	Warnings        []string         `json:"warnings"`
}

// ServiceEntry is one service the request passed through.
type ServiceEntry struct {
	Name       string `json:"name"`
	SpanCount  int    `json:"spanCount"`
	ErrorCount int    `json:"errorCount"`
	SelfTimeNs uint64 `json:"selfTimeNs"`
	// Owner is the owning team, "" when unknown.
	Owner string `json:"owner"`
}

// CallEntry is one edge of the trace's own service graph.
type CallEntry struct {
	From       string `json:"from"`
	To         string `json:"to"`
	Count      int    `json:"count"`
	TotalNs    uint64 `json:"totalNs"`
	ErrorCount int    `json:"errorCount"`
}

// PathEntry is one span on the critical path.
type PathEntry struct {
	SpanID  string `json:"spanID"`
	Service string `json:"service"`
	Name    string `json:"name"`
	// StartNs and EndNs bound the span's part of the path, as offsets
	// from the trace's start.
	StartNs int64 `json:"startNs"`
	EndNs   int64 `json:"endNs"`
	// ContributionNs is the time the path spent in the span's own work.
	ContributionNs uint64 `json:"contributionNs"`
	Depth          int    `json:"depth"`
}

// BottleneckEntry is the critical-path span with the largest contribution.
type BottleneckEntry struct {
	SpanID  string `json:"spanID"`
	Service string `json:"service"`
	Name    string `json:"name"`
	// CallerService is the parent's service when it differs.
	CallerService  string  `json:"callerService,omitempty"`
	ContributionNs uint64  `json:"contributionNs"`
	DurationNs     uint64  `json:"durationNs"`
	Share          float64 `json:"share"`
}

// SpanRef names a span, with its error message when it failed.
type SpanRef struct {
	SpanID  string `json:"spanID"`
	Service string `json:"service"`
	Name    string `json:"name"`
	Message string `json:"message,omitempty"`
}

// ErrorOrigin is the span where the failure started.
type ErrorOrigin struct {
	SpanID        string `json:"spanID"`
	Service       string `json:"service"`
	Name          string `json:"name"`
	Message       string `json:"message"`
	ExceptionType string `json:"exceptionType"`
	// ErrorChain lists the origin's ancestors that also failed, nearest first.
	ErrorChain []SpanRef `json:"errorChain"`
	// ReachedRoot tells whether every span from the origin up to the root
	// failed: the failure propagated to the request.
	ReachedRoot bool `json:"reachedRoot"`
	// OtherOrigins are further, independent failures.
	OtherOrigins []SpanRef `json:"otherOrigins"`
}

// RecoveredError is a failed attempt that a retry recovered from.
type RecoveredError struct {
	SpanID        string `json:"spanID"`
	Service       string `json:"service"`
	Name          string `json:"name"`
	Message       string `json:"message"`
	ExceptionType string `json:"exceptionType"`
	// RetriedBy is the span ID of the successful retry.
	RetriedBy string `json:"retriedBy"`
}

// Abnormal compares the trace with the baselines of its operations.
type Abnormal struct {
	// Verdict is "abnormal" (the root or a critical-path span is slower
	// than its operation's p99), "normal" (the root's baseline is known
	// and nothing on the path is out of line) or "unknown".
	Verdict    string         `json:"verdict"`
	Reason     string         `json:"reason"`
	LookbackNs int64          `json:"lookbackNs"`
	Spans      []AbnormalSpan `json:"spans"`
	// Baselines lists the operations looked up.
	Baselines []OperationBaseline `json:"baselines"`
}

// AbnormalSpan is a span slower than the p99 of its operation.
type AbnormalSpan struct {
	SpanID        string `json:"spanID"`
	Service       string `json:"service"`
	Name          string `json:"name"`
	DurationNs    uint64 `json:"durationNs"`
	BaselineP50Ns int64  `json:"baselineP50Ns"`
	BaselineP99Ns int64  `json:"baselineP99Ns"`
	Samples       int    `json:"samples"`
	// Percentile is the share of baseline samples faster than the span
	// (0-100), -1 when the source kept no samples.
	Percentile     float64 `json:"percentile"`
	TimesP50       float64 `json:"timesP50"`
	OnCriticalPath bool    `json:"onCriticalPath"`
}

// OperationBaseline is the baseline of one operation.
type OperationBaseline struct {
	Service   string `json:"service"`
	Operation string `json:"operation"`
	Samples   int    `json:"samples"`
	P50Ns     int64  `json:"p50Ns"`
	P99Ns     int64  `json:"p99Ns"`
}

// Page says who should look at the trace.
type Page struct {
	// Kind is "error" (owner of the error origin), "slow" (owner of the
	// bottleneck of an abnormal trace) or "latency" (nothing wrong was
	// found; the bottleneck's owner is who to ask about latency).
	Kind        string `json:"kind"`
	Service     string `json:"service"`
	SpanID      string `json:"spanID"`
	Owner       string `json:"owner"`
	Contact     string `json:"contact"`
	Runbook     string `json:"runbook"`
	OwnerSource string `json:"ownerSource"`
	Reason      string `json:"reason"`
}

// Explain answers the questions of issue 4 for one trace: its services and
// calls, the critical path and bottleneck, where an error originated, how
// it compares with the baselines of its operations, whom to page, and a
// summary in words. Baselines are looked up through opts.Baselines (which
// may do I/O); everything else is computed from the spans in O(n log n).
// A failed baseline lookup becomes a warning; only ctx's own error fails
// the call.
func Explain(ctx context.Context, tr *model.Trace, opts Options) (*Explanation, error) {
	opts.ensureDefaults()
	a := Analyze(tr.Spans)
	t := a.Tree
	if t.Root == nil {
		return nil, ErrEmptyTrace
	}
	root := t.Root
	start := root.Start
	off := func(ns uint64) int64 { return int64(ns) - int64(start) }
	e := &Explanation{
		TraceID:         tr.ID.String(),
		RootSpanID:      root.Span.SpanID.String(),
		RootService:     root.Span.Service(),
		RootName:        root.Span.Name,
		StartUnixNano:   start,
		DurationNs:      a.End - start,
		RootDurationNs:  root.Duration(),
		SpanCount:       len(t.Nodes),
		Services:        []ServiceEntry{},
		Calls:           []CallEntry{},
		CriticalPath:    make([]PathEntry, 0, len(a.Steps)),
		RecoveredErrors: []RecoveredError{},
		Warnings:        slices.Clone(t.Warnings),
	}
	if e.Warnings == nil {
		e.Warnings = []string{}
	}
	for _, f := range a.Errors.Failed {
		if f {
			e.ErrorCount++
		}
	}

	owners := map[string]Owner{}
	ownerOf := func(nd *Node) Owner {
		svc := nd.Span.Service()
		o, ok := owners[svc]
		if !ok {
			o = opts.Owners.Lookup(svc, nd.Span.Resource)
			owners[svc] = o
		}
		return o
	}
	svcs, calls := Services(t, a.Self, a.Errors.Failed)
	for _, s := range svcs {
		e.Services = append(e.Services, ServiceEntry{
			Name: s.Name, SpanCount: s.SpanCount, ErrorCount: s.ErrorCount,
			SelfTimeNs: s.SelfTime, Owner: ownerOf(s.First).Team,
		})
	}
	for _, c := range calls {
		e.Calls = append(e.Calls, CallEntry{From: c.From, To: c.To, Count: c.Count, TotalNs: c.Total, ErrorCount: c.Errors})
	}

	for _, s := range a.Steps {
		e.CriticalPath = append(e.CriticalPath, PathEntry{
			SpanID: s.Node.Span.SpanID.String(), Service: s.Node.Span.Service(), Name: s.Node.Span.Name,
			StartNs: off(s.Start), EndNs: off(s.End), ContributionNs: s.Contribution, Depth: s.Node.Depth,
		})
	}
	var bn *Node
	if b := Bottleneck(a.Steps); b != nil {
		bn = b.Node
		e.Bottleneck = &BottleneckEntry{
			SpanID: bn.Span.SpanID.String(), Service: bn.Span.Service(), Name: bn.Span.Name,
			CallerService: callerService(bn), ContributionNs: b.Contribution, DurationNs: bn.Duration(),
		}
		if e.DurationNs > 0 {
			e.Bottleneck.Share = float64(b.Contribution) / float64(e.DurationNs)
		}
	}
	if a.End > root.End {
		last := a.Path[len(a.Path)-1].Node
		e.Warnings = append(e.Warnings, fmt.Sprintf(
			"async work ran %s past the root's end (until %s %s ended); durationNs includes it, rootDurationNs does not",
			FormatDuration(a.End-root.End), last.Span.Service(), last.Span.Name))
	}

	e.ErrorOrigin, e.RecoveredErrors = errorEntries(a.Errors, root, opts.MaxListed)

	if err := e.checkBaselines(ctx, a, opts); err != nil {
		return nil, err
	}
	e.Page = page(e, a, bn, ownerOf)
	e.Summary = summarize(e, a, bn)
	return e, nil
}

// callerService returns the parent's service when it differs from the span's.
func callerService(nd *Node) string {
	if p := nd.Parent; p != nil && p.Span.Service() != nd.Span.Service() {
		return p.Span.Service()
	}
	return ""
}

func ref(nd *Node) SpanRef {
	msg := ""
	if Failed(nd.Span) {
		msg, _ = ErrorDetail(nd.Span)
	}
	return SpanRef{SpanID: nd.Span.SpanID.String(), Service: nd.Span.Service(), Name: nd.Span.Name, Message: msg}
}

func errorEntries(r *ErrorReport, root *Node, maxListed int) (*ErrorOrigin, []RecoveredError) {
	rec := make([]RecoveredError, 0, min(len(r.Recovered), maxListed))
	for _, x := range r.Recovered[:min(len(r.Recovered), maxListed)] {
		msg, typ := ErrorDetail(x.Attempt.Span)
		rec = append(rec, RecoveredError{
			SpanID: x.Attempt.Span.SpanID.String(), Service: x.Attempt.Span.Service(), Name: x.Attempt.Span.Name,
			Message: msg, ExceptionType: typ, RetriedBy: x.RetriedBy.Span.SpanID.String(),
		})
	}
	if r.Origin == nil {
		return nil, rec
	}
	o := r.Origin
	msg, typ := ErrorDetail(o.Span)
	eo := &ErrorOrigin{
		SpanID: o.Span.SpanID.String(), Service: o.Span.Service(), Name: o.Span.Name,
		Message: msg, ExceptionType: typ,
		ErrorChain:   make([]SpanRef, 0, len(r.Chain)),
		ReachedRoot:  failedUpTo(r, o, root),
		OtherOrigins: make([]SpanRef, 0, min(len(r.OtherOrigins), maxListed)),
	}
	for _, p := range r.Chain {
		eo.ErrorChain = append(eo.ErrorChain, ref(p))
	}
	for _, x := range r.OtherOrigins[:min(len(r.OtherOrigins), maxListed)] {
		eo.OtherOrigins = append(eo.OtherOrigins, ref(x))
	}
	return eo, rec
}

// failedUpTo reports whether every span from nd up to root failed: the
// failure visibly propagated to the request.
func failedUpTo(r *ErrorReport, nd, root *Node) bool {
	for ; nd != nil; nd = nd.Parent {
		if !r.Failed[nd.Index] {
			return false
		}
		if nd == root {
			return true
		}
	}
	return false
}

// checkBaselines fills e.Abnormal.
func (e *Explanation) checkBaselines(ctx context.Context, a *Analysis, opts Options) error {
	ab := &e.Abnormal
	ab.Verdict, ab.LookbackNs = verdictUnknown, int64(opts.Lookback)
	ab.Spans, ab.Baselines = []AbnormalSpan{}, []OperationBaseline{}
	if opts.Baselines == nil || opts.BaselineOperations < 0 {
		ab.Reason = "no baseline source is configured"
		return nil
	}
	t := a.Tree
	ops := chooseOperations(t, a.Steps, opts.BaselineOperations)
	if len(ops) == 0 {
		ab.Reason = "no operation was looked up"
		return nil
	}
	now := opts.Now()
	r := storage.TimeRange{Start: uint64(now.Add(-opts.Lookback).UnixNano()), End: uint64(now.UnixNano())}
	bls, errs := lookupBaselines(ctx, opts.Baselines, ops, r, t.Root.Span.TraceID, ownDurations(t, r))
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, err := range errs {
		if err != nil {
			e.Warnings = append(e.Warnings, err.Error())
		}
	}
	byOp := make(map[opKey]int, len(ops))
	for i, op := range ops {
		byOp[op] = i
		b := bls[i]
		ab.Baselines = append(ab.Baselines, OperationBaseline{
			Service: op.svc, Operation: op.name, Samples: b.Count, P50Ns: int64(b.P50), P99Ns: int64(b.P99),
		})
	}
	var rootAbnormal, worstOnPath *Node
	var found []AbnormalSpan
	for _, nd := range t.Nodes {
		i, ok := byOp[opKey{nd.Span.Service(), nd.Span.Name}]
		if !ok {
			continue
		}
		b := bls[i]
		d := time.Duration(nd.Duration())
		if b.Count < MinBaselineSamples || d <= b.P99 {
			continue
		}
		as := AbnormalSpan{
			SpanID: nd.Span.SpanID.String(), Service: nd.Span.Service(), Name: nd.Span.Name,
			DurationNs: uint64(d), BaselineP50Ns: int64(b.P50), BaselineP99Ns: int64(b.P99),
			Samples: b.Count, Percentile: b.Percentile(d), OnCriticalPath: a.OnPath[nd.Index] > 0,
		}
		if b.P50 > 0 {
			as.TimesP50 = float64(d) / float64(b.P50)
		}
		found = append(found, as)
		switch {
		case nd == t.Root:
			rootAbnormal = nd
		case as.OnCriticalPath && (worstOnPath == nil || a.OnPath[nd.Index] > a.OnPath[worstOnPath.Index]):
			worstOnPath = nd
		}
	}
	// Most out of line first: critical-path spans, then by how far past p99.
	slices.SortStableFunc(found, func(x, y AbnormalSpan) int {
		if x.OnCriticalPath != y.OnCriticalPath {
			if x.OnCriticalPath {
				return -1
			}
			return 1
		}
		rx, ry := float64(x.DurationNs)/float64(max(x.BaselineP99Ns, 1)), float64(y.DurationNs)/float64(max(y.BaselineP99Ns, 1))
		switch {
		case rx > ry:
			return -1
		case rx < ry:
			return 1
		}
		return 0
	})
	ab.Spans = append(ab.Spans, found...)
	if len(ab.Spans) > opts.MaxListed {
		ab.Spans = ab.Spans[:opts.MaxListed]
	}
	lookback := FormatDuration(uint64(opts.Lookback))
	rootB := bls[0] // chooseOperations puts the root's operation first
	switch {
	case rootAbnormal != nil:
		ab.Verdict = verdictAbnormal
		ab.Reason = fmt.Sprintf("%s %s took %s, above its p99 of %s (p50 %s; %d spans in the last %s)",
			e.RootService, e.RootName, FormatDuration(rootAbnormal.Duration()), FormatDuration(uint64(rootB.P99)),
			FormatDuration(uint64(rootB.P50)), rootB.Count, lookback)
	case worstOnPath != nil:
		b := bls[byOp[opKey{worstOnPath.Span.Service(), worstOnPath.Span.Name}]]
		ab.Verdict = verdictAbnormal
		ab.Reason = fmt.Sprintf("%s %s, on the critical path, took %s, above its p99 of %s (p50 %s; %d spans in the last %s)",
			worstOnPath.Span.Service(), worstOnPath.Span.Name, FormatDuration(worstOnPath.Duration()),
			FormatDuration(uint64(b.P99)), FormatDuration(uint64(b.P50)), b.Count, lookback)
	case rootB.Count >= MinBaselineSamples:
		ab.Verdict = verdictNormal
		pct := ""
		if p := rootB.Percentile(time.Duration(e.RootDurationNs)); p >= 0 {
			pct = fmt.Sprintf(", faster than %.0f%% of them", 100-p)
		}
		ab.Reason = fmt.Sprintf("%s %s took %s, within its usual range (p50 %s, p99 %s over %d spans in the last %s%s)",
			e.RootService, e.RootName, FormatDuration(e.RootDurationNs), FormatDuration(uint64(rootB.P50)),
			FormatDuration(uint64(rootB.P99)), rootB.Count, lookback, pct)
	default:
		ab.Reason = fmt.Sprintf("only %d earlier %s of %s %s in the last %s; at least %d are needed to judge",
			rootB.Count, plural(rootB.Count, "span", "spans"), e.RootService, e.RootName, lookback, MinBaselineSamples)
	}
	return nil
}

// page decides whom to page: the owner of the error origin, else the
// owner of the bottleneck.
func page(e *Explanation, a *Analysis, bn *Node, ownerOf func(*Node) Owner) *Page {
	var nd *Node
	p := &Page{}
	switch {
	case a.Errors.Origin != nil:
		nd = a.Errors.Origin
		o := e.ErrorOrigin
		p.Kind = pageError
		p.Reason = fmt.Sprintf("the error started in %s %s", o.Service, o.Name)
		if o.Message != "" {
			p.Reason += ": " + o.Message
		}
		if !o.ReachedRoot {
			p.Reason += " (the request itself did not fail)"
		}
	case bn != nil:
		nd = bn
		b := e.Bottleneck
		share := fmt.Sprintf("%s %s is the bottleneck with %.0f%% of the %s", b.Service, b.Name, 100*b.Share, FormatDuration(e.DurationNs))
		switch e.Abnormal.Verdict {
		case verdictAbnormal:
			p.Kind = pageSlow
			p.Reason = "the trace is slower than usual (" + e.Abnormal.Reason + "); " + share
		case verdictNormal:
			p.Kind = pageLatency
			p.Reason = "nothing failed and the trace is within its usual range; " + share
		default:
			p.Kind = pageLatency
			p.Reason = "nothing failed and there is no baseline to call it slow; " + share
		}
	default:
		return nil
	}
	o := ownerOf(nd)
	p.Service, p.SpanID = nd.Span.Service(), nd.Span.SpanID.String()
	p.Owner, p.Contact, p.Runbook, p.OwnerSource = o.Team, o.Contact, o.Runbook, o.Source
	if o.Team == "" {
		p.Reason += fmt.Sprintf("; no owner is known for %s (add it to the owners file or set the service.owner resource attribute)", p.Service)
	}
	return p
}
