package eval

import (
	"math"

	"github.com/clew-tracing/clew/internal/traceql"
)

// scalar evaluates a scalar expression on a spanset.
func (e *Evaluator) scalar(t *Trace, x traceql.ScalarExpr, ss Spanset) traceql.Value {
	switch x := x.(type) {
	case *traceql.Static:
		return x.Value
	case *traceql.Aggregate:
		return e.aggregate(t, x, ss)
	case *traceql.ScalarBinaryExpr:
		return Arithmetic(x.Op, e.scalar(t, x.LHS, ss), e.scalar(t, x.RHS, ss))
	}
	return traceql.Nil
}

// aggregate computes count(), avg(), min(), max() or sum() over the spans
// of a spanset. The field aggregators skip spans where the field is not a
// number and give nil when no span has one. Durations stay durations
// (avg rounds to the nanosecond); sum and min/max of ints stay ints; an
// average of ints is a float.
func (e *Evaluator) aggregate(t *Trace, a *traceql.Aggregate, ss Spanset) traceql.Value {
	if a.Func == traceql.AggCount {
		return traceql.IntValue(int64(len(ss.Spans)))
	}
	var (
		n      int
		allInt = true
		allDur = true
		isum   int64
		fsum   float64
		minV   traceql.Value
		maxV   traceql.Value
		first  = true
	)
	for _, s := range ss.Spans {
		v := e.f.value(a.Arg, &binding{trace: t, span: s})
		x, ok := v.Number()
		if !ok || math.IsNaN(x) {
			continue
		}
		n++
		allInt = allInt && isInt(v.Type)
		allDur = allDur && v.Type == traceql.TypeDuration
		isum += v.Int
		fsum += x
		if first || Compare(traceql.OpLt, v, minV) {
			minV = v
		}
		if first || Compare(traceql.OpGt, v, maxV) {
			maxV = v
		}
		first = false
	}
	if n == 0 {
		return traceql.Nil
	}
	switch a.Func {
	case traceql.AggMin:
		return minV
	case traceql.AggMax:
		return maxV
	case traceql.AggSum:
		switch {
		case allDur:
			return traceql.Value{Type: traceql.TypeDuration, Int: isum}
		case allInt:
			return traceql.IntValue(isum)
		}
		return traceql.FloatValue(fsum)
	case traceql.AggAvg:
		if allDur {
			return traceql.Value{Type: traceql.TypeDuration, Int: int64(math.Round(fsum / float64(n)))}
		}
		return traceql.FloatValue(fsum / float64(n))
	}
	return traceql.Nil
}
