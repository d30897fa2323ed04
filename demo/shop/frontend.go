package shop

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/clew-tracing/clew/demo/db"
)

// frontend is the API gateway the users (the traffic generator) call. It
// looks up the session, then routes each request to the service behind it.
type frontend struct {
	*service
	sessions       *db.DB
	catalog        *peer
	cart           *peer
	checkout       *peer
	search         *peer
	recommendation *grpcClient
}

func newFrontend(s *service, seed uint64) (*frontend, error) {
	rec, err := s.grpcPeer("recommendation", recommendationService)
	if err != nil {
		return nil, err
	}
	f := &frontend{
		service:        s,
		sessions:       db.New(s.tracer, db.Options{System: "redis", Name: "sessions", Server: "sessions.redis.internal", Port: 6379, Latency: time.Millisecond, Seed: seed}),
		catalog:        s.httpPeer("catalog"),
		cart:           s.httpPeer("cart"),
		checkout:       s.httpPeer("checkout"),
		search:         s.httpPeer("search"),
		recommendation: rec,
	}
	mux := http.NewServeMux()
	s.handle(mux, "GET /api/products", f.listProducts)
	s.handle(mux, "GET /api/products/{id}", f.getProduct)
	s.handle(mux, "GET /api/search", f.searchProducts)
	s.handle(mux, "GET /api/recommendations", f.recommend)
	s.handle(mux, "POST /api/cart/items", f.addToCart)
	s.handle(mux, "POST /api/checkout", f.placeOrder)
	s.handle(mux, "POST /api/admin/reindex", f.reindex)
	s.serveHTTP(mux)
	return f, nil
}

// session authenticates the caller: the user is the X-User-ID header,
// checked against the session store and recorded on the request span.
func (f *frontend) session(r *http.Request) (string, error) {
	user := r.Header.Get("X-User-ID")
	if user == "" {
		return "", httpErrorf(http.StatusUnauthorized, "no X-User-ID")
	}
	trace.SpanFromContext(r.Context()).SetAttributes(attribute.String("enduser.id", user))
	if err := f.sessions.Query(r.Context(), "GET session:"+user, 1); err != nil {
		return "", err
	}
	return user, nil
}

func (f *frontend) listProducts(w http.ResponseWriter, r *http.Request) error {
	if _, err := f.session(r); err != nil {
		return err
	}
	var out map[string]any
	if err := f.catalog.do(r.Context(), "GET", "/products", "/products?category="+url.QueryEscape(r.URL.Query().Get("category")), nil, &out); err != nil {
		return upstream(err)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (f *frontend) getProduct(w http.ResponseWriter, r *http.Request) error {
	if _, err := f.session(r); err != nil {
		return err
	}
	var out map[string]any
	if err := f.catalog.do(r.Context(), "GET", "/products/{id}", "/products/"+url.PathEscape(r.PathValue("id")), nil, &out); err != nil {
		return upstream(err)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (f *frontend) searchProducts(w http.ResponseWriter, r *http.Request) error {
	if _, err := f.session(r); err != nil {
		return err
	}
	var out map[string]any
	if err := f.catalog.do(r.Context(), "GET", "/search", "/search?q="+url.QueryEscape(r.URL.Query().Get("q")), nil, &out); err != nil {
		return upstream(err)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (f *frontend) recommend(w http.ResponseWriter, r *http.Request) error {
	user, err := f.session(r)
	if err != nil {
		return err
	}
	out, err := f.recommendation.call(r.Context(), "Recommend", map[string]any{"user": user, "limit": 4})
	if err != nil {
		return httpErrorf(http.StatusBadGateway, "recommendation: %v", err)
	}
	return writeJSON(w, http.StatusOK, out.AsMap())
}

func (f *frontend) addToCart(w http.ResponseWriter, r *http.Request) error {
	user, err := f.session(r)
	if err != nil {
		return err
	}
	var item cartItem
	if err := readJSON(r, &item); err != nil {
		return err
	}
	var out map[string]any
	if err := f.cart.do(r.Context(), "POST", "/carts/{user}/items", "/carts/"+url.PathEscape(user)+"/items", item, &out); err != nil {
		return upstream(err)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (f *frontend) placeOrder(w http.ResponseWriter, r *http.Request) error {
	user, err := f.session(r)
	if err != nil {
		return err
	}
	var out map[string]any
	if err := f.checkout.do(r.Context(), "POST", "/checkout", "/checkout", map[string]string{"user": user}, &out); err != nil {
		return upstream(err)
	}
	return writeJSON(w, http.StatusOK, out)
}

// reindex rebuilds the search index: an admin action, and the demo's very
// large trace.
func (f *frontend) reindex(w http.ResponseWriter, r *http.Request) error {
	if _, err := f.session(r); err != nil {
		return err
	}
	var out map[string]any
	if err := f.search.do(r.Context(), "POST", "/reindex", "/reindex", nil, &out); err != nil {
		return upstream(err)
	}
	return writeJSON(w, http.StatusOK, out)
}

// upstream turns a callee's failure into this service's answer: a callee's
// 4xx passes through, anything else is a 502.
func upstream(err error) error {
	var se *statusError
	if errors.As(err, &se) && se.code < 500 {
		return se
	}
	return httpErrorf(http.StatusBadGateway, "%v", err)
}
