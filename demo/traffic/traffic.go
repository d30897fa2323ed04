// Package traffic plays the demo shop's users: sessions arrive at random
// (a Poisson process at a configured rate), and each browses, searches,
// looks at products and recommendations, fills a cart and often checks
// out, with a pause between steps as a person would take.
//
// The generator is not traced itself: each request it makes starts a new
// trace at the shop's frontend, as a browser without instrumentation
// would.
package traffic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clew-tracing/clew/demo/faults"
)

// Options configure a Generator. Frontend is required.
type Options struct {
	// Frontend is the base URL of the shop's API gateway.
	Frontend string
	// Rate is how many sessions start per second, on average. Zero means 2.
	Rate float64
	// MaxSessions bounds the sessions running at once; arrivals past it
	// are dropped (as users give up on a slow shop). Zero means 64.
	MaxSessions int
	// ThinkTime is the typical pause between a user's steps. Zero means
	// 300ms.
	ThinkTime time.Duration
	// Users is how many distinct users there are. Zero means 50.
	Users int
	// Categories and SearchTerms are what users browse and search for.
	Categories  []string
	SearchTerms []string
	// Dice decides the large-trace fault: a session that is an admin's
	// reindex. Nil means never.
	Dice *faults.Dice
	// Seed makes the sessions reproducible (with one session at a time).
	Seed uint64
	// Logger receives a summary at the end and, at debug level, failed
	// requests. Nil discards.
	Logger *slog.Logger
}

// Validate reports options that cannot run.
func (o *Options) Validate() error {
	var errs []error
	if _, err := url.Parse(o.Frontend); err != nil || o.Frontend == "" {
		errs = append(errs, fmt.Errorf("frontend URL %q is not valid", o.Frontend))
	}
	if o.Rate < 0 || o.MaxSessions < 0 || o.ThinkTime < 0 || o.Users < 0 {
		errs = append(errs, errors.New("rate, max sessions, think time and users must not be negative"))
	}
	if len(o.Categories) == 0 || len(o.SearchTerms) == 0 {
		errs = append(errs, errors.New("categories and search terms are required"))
	}
	return errors.Join(errs...)
}

func (o *Options) ensureDefaults() {
	if o.Rate == 0 {
		o.Rate = 2
	}
	if o.MaxSessions == 0 {
		o.MaxSessions = 64
	}
	if o.ThinkTime == 0 {
		o.ThinkTime = 300 * time.Millisecond
	}
	if o.Users == 0 {
		o.Users = 50
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Dice == nil {
		o.Dice = faults.NewDice(faults.Set{}, 0)
	}
}

// Stats count what a generator did.
type Stats struct {
	Sessions int64 // sessions started
	Dropped  int64 // arrivals dropped at MaxSessions
	Requests int64 // requests sent
	Failed   int64 // requests that failed or got a 5xx
}

// Generator plays sessions against the shop. Run it once.
type Generator struct {
	opts   Options
	client *http.Client

	mu  sync.Mutex
	rng *rand.Rand

	sessions, dropped, requests, failed atomic.Int64
}

// New returns a generator; its requests go over a transport of its own,
// whose idle connections Run closes when it returns.
func New(opts Options) (*Generator, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts.ensureDefaults()
	return &Generator{
		opts:   opts,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}, Timeout: 15 * time.Second},
		rng:    rand.New(rand.NewPCG(opts.Seed, 0x7aff1c)),
	}, nil
}

// Stats returns the counts so far; safe to call while Run runs.
func (g *Generator) Stats() Stats {
	return Stats{Sessions: g.sessions.Load(), Dropped: g.dropped.Load(), Requests: g.requests.Load(), Failed: g.failed.Load()}
}

// Run starts sessions until ctx is done, then lets each running session
// finish the request it is in (so no trace is cut short by the stop) and
// returns once all have ended.
func (g *Generator) Run(ctx context.Context) {
	defer g.client.CloseIdleConnections()
	var wg sync.WaitGroup
	running := make(chan struct{}, g.opts.MaxSessions)
	for {
		wait := time.Duration(g.float64(func(r *rand.Rand) float64 { return r.ExpFloat64() }) / g.opts.Rate * float64(time.Second))
		if !pause(ctx, wait) {
			break
		}
		select {
		case running <- struct{}{}:
		default:
			g.dropped.Add(1)
			continue
		}
		g.sessions.Add(1)
		wg.Go(func() {
			defer func() { <-running }()
			g.session(ctx)
		})
	}
	wg.Wait()
	st := g.Stats()
	g.opts.Logger.Info("traffic stopped", "sessions", st.Sessions, "dropped", st.Dropped, "requests", st.Requests, "failed", st.Failed)
}

// session plays one user. It checks ctx only between steps.
func (g *Generator) session(ctx context.Context) {
	user := fmt.Sprintf("user-%03d", g.intn(g.opts.Users))
	if g.opts.Dice.Strike(faults.LargeTrace) {
		g.do(ctx, user, "POST", "/api/admin/reindex", nil, nil)
		return
	}
	var listing struct {
		Products []struct {
			ID string `json:"id"`
		} `json:"products"`
	}
	category := g.opts.Categories[g.intn(len(g.opts.Categories))]
	steps := []func() bool{
		func() bool {
			return g.do(ctx, user, "GET", "/api/products?category="+url.QueryEscape(category), nil, &listing)
		},
		func() bool {
			if g.chance(0.6) {
				q := g.opts.SearchTerms[g.intn(len(g.opts.SearchTerms))]
				return g.do(ctx, user, "GET", "/api/search?q="+url.QueryEscape(q), nil, nil)
			}
			return true
		},
		func() bool {
			for range 1 + g.intn(3) {
				if len(listing.Products) == 0 {
					return false
				}
				id := listing.Products[g.intn(len(listing.Products))].ID
				if !g.do(ctx, user, "GET", "/api/products/"+url.PathEscape(id), nil, nil) || !g.think(ctx) {
					return false
				}
			}
			return true
		},
		func() bool { return g.do(ctx, user, "GET", "/api/recommendations", nil, nil) },
		func() bool {
			if len(listing.Products) == 0 || !g.chance(0.7) {
				return false
			}
			id := listing.Products[g.intn(len(listing.Products))].ID
			return g.do(ctx, user, "POST", "/api/cart/items", map[string]any{"product_id": id, "quantity": 1 + g.intn(3)}, nil)
		},
		func() bool {
			if !g.chance(0.7) {
				return false
			}
			return g.do(ctx, user, "POST", "/api/checkout", map[string]any{}, nil)
		},
	}
	for _, step := range steps {
		if !step() || !g.think(ctx) {
			return
		}
	}
}

// do sends one request as user and decodes a JSON answer into out. It
// reports whether the session should go on. NB: the request does not use
// ctx, so that stopping the generator does not cancel requests half-way
// and leave error spans that no user caused.
func (g *Generator) do(ctx context.Context, user, method, path string, in, out any) bool {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), method, g.opts.Frontend+path, body)
	if err != nil {
		g.opts.Logger.Debug("bad request", "err", err)
		return false
	}
	req.Header.Set("X-User-ID", user)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	g.requests.Add(1)
	resp, err := g.client.Do(req)
	if err != nil {
		g.failed.Add(1)
		g.opts.Logger.Debug("request failed", "method", method, "path", path, "err", err)
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 500 {
		g.failed.Add(1)
	}
	if resp.StatusCode/100 != 2 {
		g.opts.Logger.Debug("request answered with an error", "method", method, "path", path, "status", resp.StatusCode, "body", string(b))
		return false
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return false
		}
	}
	return true
}

// think pauses between steps; false if ctx ended meanwhile.
func (g *Generator) think(ctx context.Context) bool {
	d := g.opts.ThinkTime/2 + time.Duration(g.float64(func(r *rand.Rand) float64 { return r.Float64() })*float64(g.opts.ThinkTime))
	return pause(ctx, d)
}

// pause waits d; false if ctx ended first.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (g *Generator) float64(f func(*rand.Rand) float64) float64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return f(g.rng)
}

func (g *Generator) intn(n int) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.rng.IntN(n)
}

func (g *Generator) chance(p float64) bool {
	return g.float64(func(r *rand.Rand) float64 { return r.Float64() }) < p
}
