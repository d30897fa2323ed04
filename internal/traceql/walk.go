package traceql

// Children returns the direct children of n in source order.
func Children(n Node) []Node {
	var out []Node
	add := func(c Node) {
		if c != nil {
			out = append(out, c)
		}
	}
	switch n := n.(type) {
	case *Query:
		add(n.Pipeline)
		if n.Metrics != nil {
			add(n.Metrics)
		}
		for _, s := range n.SecondStage {
			add(s)
		}
		if n.Hints != nil {
			add(n.Hints)
		}
	case *Pipeline:
		for _, s := range n.Stages {
			add(s)
		}
	case *SpansetFilter:
		if n.Expr != nil {
			add(n.Expr)
		}
	case *SpansetOperation:
		add(n.LHS)
		add(n.RHS)
	case *PipelineExpr:
		add(n.Pipeline)
	case *ScalarFilter:
		add(n.LHS)
		add(n.RHS)
	case *Aggregate:
		if n.Arg != nil {
			add(n.Arg)
		}
	case *ScalarBinaryExpr:
		add(n.LHS)
		add(n.RHS)
	case *GroupBy:
		add(n.Expr)
	case *Select:
		for _, e := range n.Exprs {
			add(e)
		}
	case *MetricsAggregate:
		if n.Arg != nil {
			add(n.Arg)
		}
		for _, p := range n.Params {
			add(p)
		}
		for _, e := range n.By {
			add(e)
		}
	case *Hints:
		for _, h := range n.Hints {
			add(h)
		}
	case *Hint:
		add(n.Value)
	case *BinaryExpr:
		add(n.LHS)
		add(n.RHS)
	case *UnaryExpr:
		add(n.X)
	}
	return out
}

// Visitor's Visit is called for each node by [Walk]. If it returns a
// non-nil visitor w, Walk visits each child of the node with w, then
// calls w.Visit(nil).
type Visitor interface {
	Visit(n Node) (w Visitor)
}

// Walk traverses the tree rooted at n depth-first, as go/ast.Walk does.
func Walk(v Visitor, n Node) {
	if v = v.Visit(n); v == nil {
		return
	}
	for _, c := range Children(n) {
		Walk(v, c)
	}
	v.Visit(nil)
}

type inspector func(Node) bool

func (f inspector) Visit(n Node) Visitor {
	if f(n) {
		return f
	}
	return nil
}

// Inspect calls f for each node of the tree rooted at n, depth-first; if
// f returns false, the node's children are skipped. After the children it
// calls f(nil).
func Inspect(n Node, f func(Node) bool) {
	Walk(inspector(f), n)
}
