package traffic

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/clew-tracing/clew/demo/faults"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeFrontend records the requests and answers like the shop's gateway.
type fakeFrontend struct {
	mu       sync.Mutex
	requests []string
	users    map[string]bool
}

func (f *fakeFrontend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	f.users[r.Header.Get("X-User-ID")] = true
	f.mu.Unlock()
	if r.URL.Path == "/api/products" {
		json.NewEncoder(w).Encode(map[string]any{"products": []map[string]string{{"id": "boo-01"}, {"id": "boo-02"}}})
		return
	}
	w.Write([]byte("{}"))
}

func (f *fakeFrontend) count(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

func run(t *testing.T, dice *faults.Dice, until func(*fakeFrontend) bool) (*fakeFrontend, Stats) {
	t.Helper()
	fe := &fakeFrontend{users: map[string]bool{}}
	srv := httptest.NewServer(fe)
	defer srv.Close()
	g, err := New(Options{
		Frontend: srv.URL, Rate: 50, ThinkTime: time.Millisecond, Users: 5,
		Categories: []string{"books"}, SearchTerms: []string{"guide"}, Dice: dice, Seed: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { g.Run(ctx); close(done) }()
	deadline := time.Now().Add(30 * time.Second)
	for !until(fe) {
		if time.Now().After(deadline) {
			t.Fatalf("requests so far: %v", fe.requests)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	<-done
	return fe, g.Stats()
}

func TestSessions(t *testing.T) {
	fe, st := run(t, nil, func(f *fakeFrontend) bool { return f.count("POST /api/checkout") >= 3 })
	for _, want := range []string{"GET /api/products", "GET /api/products/boo-0", "GET /api/recommendations", "POST /api/cart/items"} {
		if fe.count(want) == 0 {
			t.Errorf("no %s in %v", want, fe.requests)
		}
	}
	if fe.count("POST /api/admin/reindex") != 0 {
		t.Error("reindex without the large-trace fault")
	}
	if fe.users[""] || len(fe.users) == 0 || len(fe.users) > 5 {
		t.Errorf("users %v", fe.users)
	}
	if st.Sessions == 0 || st.Requests != int64(len(fe.requests)) || st.Failed != 0 {
		t.Errorf("stats %+v for %d requests", st, len(fe.requests))
	}
}

func TestLargeTraceSessions(t *testing.T) {
	fe, _ := run(t, faults.NewDice(faults.Set{faults.LargeTrace: 1}, 1),
		func(f *fakeFrontend) bool { return f.count("POST /api/admin/reindex") >= 2 })
	if n := fe.count(""); n != fe.count("POST /api/admin/reindex") {
		t.Errorf("every session should be a reindex: %v", fe.requests)
	}
}

func TestValidate(t *testing.T) {
	for _, o := range []Options{
		{},
		{Frontend: "http://x", Categories: []string{"a"}},
		{Frontend: "http://x", Categories: []string{"a"}, SearchTerms: []string{"b"}, Rate: -1},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}
