package tempo

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/query"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/traceql"
	"github.com/clew-tracing/clew/internal/traceql/engine"
)

// sampleTraces is how many matching traces a tag request with q= looks at
// to find the tags and values of the spans matching q.
const sampleTraces = 100

type tagNamesResponse struct {
	TagNames []string `json:"tagNames"`
}

type tagScopesResponse struct {
	Scopes []tagScope `json:"scopes"`
}

type tagScope struct {
	Name string   `json:"name"`
	Tags []string `json:"tags"`
}

type tagValuesResponse struct {
	TagValues []string `json:"tagValues"`
}

type typedTagValuesResponse struct {
	TagValues []typedValue `json:"tagValues"`
}

// tagScopes are the scopes of the v2 tag names response, in Tempo's order.
var tagScopes = []string{"resource", "span", "event", "link", "instrumentation", "intrinsic"}

// catalogRange reads start and end (Unix seconds) for the catalog.
func (a *API) catalogRange(vals url.Values) (storage.TimeRange, error) {
	return a.searchRange(vals)
}

// tagNames returns the attribute names per scope name: from the catalog,
// or, when q has conditions, from the spans of up to sampleTraces traces
// that match them.
func (a *API) tagNames(ctx context.Context, vals url.Values) (map[string][]string, error) {
	rng, err := a.catalogRange(vals)
	if err != nil {
		return nil, err
	}
	limit, err := parseCount(vals, "limit", 0)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{"intrinsic": traceql.IntrinsicNames()}
	if cond := traceql.ParseLenientFilter(vals.Get("q")); cond != nil {
		res, err := a.eng.Search(ctx, engine.SearchRequest{Query: "{ " + cond.String() + " }", Range: rng, Limit: sampleTraces})
		if err != nil {
			return nil, err
		}
		sets := map[string]map[string]bool{}
		for _, tr := range res.Traces {
			for _, ss := range tr.Spansets {
				for _, s := range ss.Spans {
					storage.EachAttribute(s.Span, func(scope storage.AttrScope, kv *model.KeyValue) {
						if sets[scope.String()] == nil {
							sets[scope.String()] = map[string]bool{}
						}
						sets[scope.String()][kv.Key] = true
					})
				}
			}
		}
		for scope, set := range sets {
			out[scope] = sortedKeys(set)
		}
		return out, nil
	}
	names, err := a.q.AttributeNames(ctx, storage.AttributeQuery{Scope: storage.ScopeAny, Range: rng, Limit: limit})
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		out[n.Scope.String()] = append(out[n.Scope.String()], n.Name)
	}
	for k, v := range out {
		slices.Sort(v)
		out[k] = slices.Compact(v)
	}
	return out, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// searchTags answers GET /api/search/tags?scope=: attribute names without
// their scopes (scope=intrinsic: the intrinsics).
func (a *API) searchTags(r *http.Request) (response, error) {
	vals := r.URL.Query()
	scope := vals.Get("scope")
	if err := checkScope(scope); err != nil {
		return response{}, err
	}
	byScope, err := a.tagNames(r.Context(), vals)
	if err != nil {
		return response{}, err
	}
	var names []string
	for s, n := range byScope {
		if (scope == "" || scope == "all") && s != "intrinsic" || s == scope {
			names = append(names, n...)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	if names == nil {
		names = []string{}
	}
	return jsonResponse(tagNamesResponse{TagNames: names}), nil
}

func checkScope(scope string) error {
	if scope == "" || scope == "all" || slices.Contains(tagScopes, scope) {
		return nil
	}
	return query.BadRequestf("unknown scope %q: want one of %s", scope, strings.Join(append([]string{"all"}, tagScopes...), ", "))
}

// searchTagsV2 answers GET /api/v2/search/tags?scope=&q=: attribute names
// per scope, and the intrinsics.
func (a *API) searchTagsV2(r *http.Request) (response, error) {
	vals := r.URL.Query()
	scope := vals.Get("scope")
	if err := checkScope(scope); err != nil {
		return response{}, err
	}
	byScope, err := a.tagNames(r.Context(), vals)
	if err != nil {
		return response{}, err
	}
	out := tagScopesResponse{Scopes: []tagScope{}}
	for _, s := range tagScopes {
		if scope != "" && scope != "all" && s != scope {
			continue
		}
		tags := byScope[s]
		if len(tags) == 0 && s != "span" && s != "resource" && s != "intrinsic" {
			continue
		}
		if tags == nil {
			tags = []string{}
		}
		out.Scopes = append(out.Scopes, tagScope{Name: s, Tags: tags})
	}
	return jsonResponse(out), nil
}

// keywords are the values of the enum intrinsics.
var keywords = map[traceql.Intrinsic][]traceql.Value{
	traceql.IntrinsicStatus: {traceql.StatusValue(model.StatusError), traceql.StatusValue(model.StatusOK), traceql.StatusValue(model.StatusUnset)},
	traceql.IntrinsicKind: {
		traceql.KindValue(model.KindClient), traceql.KindValue(model.KindConsumer), traceql.KindValue(model.KindInternal),
		traceql.KindValue(model.KindProducer), traceql.KindValue(model.KindServer), traceql.KindValue(model.KindUnspecified),
	},
}

// tagValues returns the values of a field for autocomplete: from the
// catalog, or, when q has conditions other than on the field itself, from
// the spans of up to sampleTraces traces matching them.
func (a *API) tagValues(ctx context.Context, field traceql.FieldExpr, vals url.Values) ([]traceql.Value, error) {
	rng, err := a.catalogRange(vals)
	if err != nil {
		return nil, err
	}
	limit, err := parseCount(vals, "limit", 0)
	if err != nil {
		return nil, err
	}
	cond := withoutField(traceql.ParseLenientFilter(vals.Get("q")), field)
	if in, ok := field.(*traceql.IntrinsicField); ok {
		if kw, ok := keywords[in.Intrinsic]; ok {
			return kw, nil
		}
	}
	if cond == nil {
		if vs, ok, err := a.catalogValues(ctx, field, rng, limit); ok || err != nil {
			return vs, err
		}
	}
	// Sample the spans matching q (or any spans) and collect the field.
	src := "{ }"
	if cond != nil {
		src = "{ " + cond.String() + " }"
	}
	res, err := a.eng.Search(ctx, engine.SearchRequest{Query: src, Range: rng, Limit: sampleTraces})
	if err != nil {
		return nil, err
	}
	seen := map[traceql.Value]bool{}
	var out []traceql.Value
	for _, tr := range res.Traces {
		for _, ss := range tr.Spansets {
			for _, s := range ss.Spans {
				v := res.Evaluator.Value(tr.Trace, field, s)
				if !v.IsNil() && !seen[v] {
					seen[v] = true
					out = append(out, v)
				}
			}
		}
	}
	sortValues(out)
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// catalogValues answers from the catalog when it knows the field: span
// names for name, services for the root service, attribute values for
// attributes. ok is false for other intrinsics.
func (a *API) catalogValues(ctx context.Context, field traceql.FieldExpr, rng storage.TimeRange, limit int) ([]traceql.Value, bool, error) {
	switch f := field.(type) {
	case *traceql.Attribute:
		if f.Parent {
			return nil, true, query.BadRequestf("values of parent attributes are not listed")
		}
		scope := map[traceql.AttributeScope]storage.AttrScope{
			traceql.ScopeNone: storage.ScopeAny, traceql.ScopeSpan: storage.ScopeSpan, traceql.ScopeResource: storage.ScopeResource,
			traceql.ScopeEvent: storage.ScopeEvent, traceql.ScopeLink: storage.ScopeLink, traceql.ScopeInstrumentation: storage.ScopeInstrumentation,
		}[f.Scope]
		vs, err := a.q.AttributeValues(ctx, storage.AttributeQuery{Scope: scope, Name: f.Name, Range: rng, Limit: limit})
		if err != nil {
			return nil, true, err
		}
		out := make([]traceql.Value, 0, len(vs))
		seen := map[traceql.Value]bool{}
		for _, v := range vs {
			if tv := traceql.FromModel(v); !seen[tv] {
				seen[tv] = true
				out = append(out, tv)
			}
		}
		sortValues(out)
		return out, true, nil
	case *traceql.IntrinsicField:
		switch f.Intrinsic {
		case traceql.IntrinsicName, traceql.IntrinsicTraceRootName:
			ops, err := a.q.Operations(ctx, storage.OperationQuery{})
			if err != nil {
				return nil, true, err
			}
			var out []traceql.Value
			for _, op := range ops {
				out = append(out, traceql.StringValue(op.Name))
			}
			out = slices.Compact(out)
			return out, true, nil
		case traceql.IntrinsicTraceRootService:
			svcs, err := a.q.Services(ctx)
			if err != nil {
				return nil, true, err
			}
			out := make([]traceql.Value, len(svcs))
			for i, s := range svcs {
				out[i] = traceql.StringValue(s)
			}
			return out, true, nil
		}
	}
	return nil, false, nil
}

func sortValues(vs []traceql.Value) {
	slices.SortFunc(vs, func(a, b traceql.Value) int { return strings.Compare(a.Text(), b.Text()) })
}

// withoutField drops the conjuncts of cond that test field: the values of
// a tag being typed must not be narrowed by its own half-typed condition.
func withoutField(cond traceql.FieldExpr, field traceql.FieldExpr) traceql.FieldExpr {
	if cond == nil {
		return nil
	}
	if b, ok := cond.(*traceql.BinaryExpr); ok && b.Op == traceql.OpAnd {
		l, r := withoutField(b.LHS, field), withoutField(b.RHS, field)
		switch {
		case l == nil:
			return r
		case r == nil:
			return l
		}
		return &traceql.BinaryExpr{Op: traceql.OpAnd, LHS: l, RHS: r}
	}
	mentions := false
	traceql.Inspect(cond, func(n traceql.Node) bool {
		if e, ok := n.(traceql.FieldExpr); ok && sameField(e, field) {
			mentions = true
		}
		return !mentions
	})
	if mentions {
		return nil
	}
	return cond
}

func sameField(a, b traceql.FieldExpr) bool {
	switch x := a.(type) {
	case *traceql.Attribute:
		y, ok := b.(*traceql.Attribute)
		return ok && x.Scope == y.Scope && x.Parent == y.Parent && x.Name == y.Name
	case *traceql.IntrinsicField:
		y, ok := b.(*traceql.IntrinsicField)
		return ok && x.Intrinsic == y.Intrinsic
	}
	return false
}

// searchTagValues answers GET /api/search/tag/{tag}/values: the values of
// an unscoped attribute (or of an intrinsic such as status or name) as
// strings.
func (a *API) searchTagValues(r *http.Request) (response, error) {
	tag := r.PathValue("tag")
	var field traceql.FieldExpr
	if in, ok := traceql.LookupIntrinsic(tag); ok {
		field = &traceql.IntrinsicField{Intrinsic: in, Spelling: tag}
	} else {
		field = &traceql.Attribute{Name: tag}
	}
	vs, err := a.tagValues(r.Context(), field, r.URL.Query())
	if err != nil {
		return response{}, err
	}
	out := tagValuesResponse{TagValues: make([]string, 0, len(vs))}
	for _, v := range vs {
		out.TagValues = append(out.TagValues, v.Text())
	}
	out.TagValues = slices.Compact(out.TagValues)
	return jsonResponse(out), nil
}

// searchTagValuesV2 answers GET /api/v2/search/tag/{tag}/values?q=: the
// typed values of a scoped attribute (resource.service.name, span.x, .x)
// or intrinsic (name, status, kind, ...), narrowed by the query q.
func (a *API) searchTagValuesV2(r *http.Request) (response, error) {
	tag := r.PathValue("tag")
	field, err := traceql.ParseField(tag)
	if err != nil {
		return response{}, query.BadRequestf("malformed tag %q: %v", tag, err)
	}
	vs, err := a.tagValues(r.Context(), field, r.URL.Query())
	if err != nil {
		return response{}, err
	}
	out := typedTagValuesResponse{TagValues: make([]typedValue, 0, len(vs))}
	for _, v := range vs {
		out.TagValues = append(out.TagValues, typedFromTraceQL(v))
	}
	return jsonResponse(out), nil
}
