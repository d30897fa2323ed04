package traceql

// FuncKind says where in a query a function may appear.
type FuncKind uint8

// Function kinds.
const (
	// FuncAggregate functions reduce a spanset to a number compared in a
	// scalar filter: count() > 2.
	FuncAggregate FuncKind = iota + 1
	// FuncPipeline functions are pipeline stages: by(), select(), coalesce().
	FuncPipeline
	// FuncMetrics functions turn spans into time series.
	FuncMetrics
	// FuncSecondStage functions transform the series of a metrics query.
	FuncSecondStage
)

// ArgKind says what a function takes between its parentheses.
type ArgKind uint8

// Argument kinds.
const (
	ArgNone      ArgKind = iota // f()
	ArgNumeric                  // f(field): a field with numeric values
	ArgField                    // f(field): any field
	ArgFields                   // f(field, field, ...)
	ArgQuantiles                // f(field, q, q, ...): a numeric field and quantiles in [0, 1]
	ArgInt                      // f(n): a positive integer
)

// Function describes one TraceQL function.
type Function struct {
	Name string
	Kind FuncKind
	Arg  ArgKind
	// Agg, Metrics, Second and Pipeline identify the function for the
	// evaluator; only the one matching Kind is set.
	Agg      AggregateFunc
	Metrics  MetricsFunc
	Second   SecondStageFunc
	Pipeline PipelineFunc
	// Doc is a one-line description, for autocomplete.
	Doc string
}

// AggregateFunc identifies an aggregate.
type AggregateFunc uint8

// Aggregates.
const (
	AggCount AggregateFunc = iota + 1
	AggAvg
	AggMin
	AggMax
	AggSum
)

// MetricsFunc identifies a metrics function.
type MetricsFunc uint8

// Metrics functions.
const (
	MetricsRate MetricsFunc = iota + 1
	MetricsCountOverTime
	MetricsSumOverTime
	MetricsMinOverTime
	MetricsMaxOverTime
	MetricsAvgOverTime
	MetricsQuantileOverTime
	MetricsHistogramOverTime
	MetricsCompare
)

// SecondStageFunc identifies a second-stage function.
type SecondStageFunc uint8

// Second-stage functions.
const (
	SecondTopK SecondStageFunc = iota + 1
	SecondBottomK
)

// PipelineFunc identifies a pipeline function.
type PipelineFunc uint8

// Pipeline functions.
const (
	PipelineBy PipelineFunc = iota + 1
	PipelineSelect
	PipelineCoalesce
)

// Functions lists every function by name. The parser recognises
// functions through it and the evaluator dispatches on its identifiers.
var Functions = map[string]*Function{
	"count": {Name: "count", Kind: FuncAggregate, Arg: ArgNone, Agg: AggCount, Doc: "number of spans in the spanset"},
	"avg":   {Name: "avg", Kind: FuncAggregate, Arg: ArgNumeric, Agg: AggAvg, Doc: "mean of a numeric field over the spanset"},
	"min":   {Name: "min", Kind: FuncAggregate, Arg: ArgNumeric, Agg: AggMin, Doc: "smallest value of a numeric field"},
	"max":   {Name: "max", Kind: FuncAggregate, Arg: ArgNumeric, Agg: AggMax, Doc: "largest value of a numeric field"},
	"sum":   {Name: "sum", Kind: FuncAggregate, Arg: ArgNumeric, Agg: AggSum, Doc: "sum of a numeric field"},

	"by":       {Name: "by", Kind: FuncPipeline, Arg: ArgField, Pipeline: PipelineBy, Doc: "split spansets by a field's value"},
	"select":   {Name: "select", Kind: FuncPipeline, Arg: ArgFields, Pipeline: PipelineSelect, Doc: "return these fields with each span"},
	"coalesce": {Name: "coalesce", Kind: FuncPipeline, Arg: ArgNone, Pipeline: PipelineCoalesce, Doc: "merge a trace's spansets into one"},

	"rate":                {Name: "rate", Kind: FuncMetrics, Arg: ArgNone, Metrics: MetricsRate, Doc: "matching spans per second"},
	"count_over_time":     {Name: "count_over_time", Kind: FuncMetrics, Arg: ArgNone, Metrics: MetricsCountOverTime, Doc: "matching spans per step"},
	"sum_over_time":       {Name: "sum_over_time", Kind: FuncMetrics, Arg: ArgNumeric, Metrics: MetricsSumOverTime, Doc: "sum of a field per step"},
	"min_over_time":       {Name: "min_over_time", Kind: FuncMetrics, Arg: ArgNumeric, Metrics: MetricsMinOverTime, Doc: "minimum of a field per step"},
	"max_over_time":       {Name: "max_over_time", Kind: FuncMetrics, Arg: ArgNumeric, Metrics: MetricsMaxOverTime, Doc: "maximum of a field per step"},
	"avg_over_time":       {Name: "avg_over_time", Kind: FuncMetrics, Arg: ArgNumeric, Metrics: MetricsAvgOverTime, Doc: "mean of a field per step"},
	"quantile_over_time":  {Name: "quantile_over_time", Kind: FuncMetrics, Arg: ArgQuantiles, Metrics: MetricsQuantileOverTime, Doc: "quantiles of a field per step"},
	"histogram_over_time": {Name: "histogram_over_time", Kind: FuncMetrics, Arg: ArgNumeric, Metrics: MetricsHistogramOverTime, Doc: "power-of-two histogram of a field per step"},
	"compare":             {Name: "compare", Kind: FuncMetrics, Arg: ArgNone, Metrics: MetricsCompare, Doc: "attribute comparison of a selection against a baseline (not supported)"},

	"topk":    {Name: "topk", Kind: FuncSecondStage, Arg: ArgInt, Second: SecondTopK, Doc: "the n largest series at each step"},
	"bottomk": {Name: "bottomk", Kind: FuncSecondStage, Arg: ArgInt, Second: SecondBottomK, Doc: "the n smallest series at each step"},
}

var (
	aggNames     = map[AggregateFunc]string{}
	metricsNames = map[MetricsFunc]string{}
	secondNames  = map[SecondStageFunc]string{}
)

func init() {
	for name, f := range Functions {
		switch f.Kind {
		case FuncAggregate:
			aggNames[f.Agg] = name
		case FuncMetrics:
			metricsNames[f.Metrics] = name
		case FuncSecondStage:
			secondNames[f.Second] = name
		}
	}
}

// String returns the function's name.
func (f AggregateFunc) String() string { return nameOr(aggNames[f]) }

// String returns the function's name.
func (f MetricsFunc) String() string { return nameOr(metricsNames[f]) }

// String returns the function's name.
func (f SecondStageFunc) String() string { return nameOr(secondNames[f]) }

func nameOr(s string) string {
	if s == "" {
		return "?"
	}
	return s
}

// Function returns the description of a metrics function.
func (f MetricsFunc) Function() *Function { return Functions[f.String()] }
