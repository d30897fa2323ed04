package shop

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/otel/propagation"

	"github.com/clew-tracing/clew/demo/faults"
	"github.com/clew-tracing/clew/demo/queue"
	"github.com/clew-tracing/clew/demo/telemetry"
	"github.com/clew-tracing/clew/demo/traffic"
)

// Options configure the shop. The zero value runs it with the defaults
// against the OTLP endpoint of the OTEL_* environment (or localhost:4317).
type Options struct {
	// OTLPEndpoint and Protocol say where spans go; see
	// [telemetry.ExporterOptions].
	OTLPEndpoint string
	Protocol     string
	// Rate is how many user sessions start per second. Zero means 2.
	Rate float64
	// ThinkTime is the users' typical pause between steps. Zero means
	// 300ms.
	ThinkTime time.Duration
	// Faults are the fault scenarios and their rates. Nil means
	// [faults.Default]; use an empty Set for none.
	Faults faults.Set
	// Environment is the deployment.environment of every service. Empty
	// means "demo".
	Environment string
	// Seed makes latencies and faults reproducible. Zero picks one from the
	// clock.
	Seed uint64
	// Logger receives the shop's own log lines. Nil discards them.
	Logger *slog.Logger
}

// Validate reports options that cannot run.
func (o *Options) Validate() error {
	var errs []error
	if o.Rate < 0 {
		errs = append(errs, errors.New("rate must not be negative"))
	}
	if o.ThinkTime < 0 {
		errs = append(errs, errors.New("think time must not be negative"))
	}
	for k, r := range o.Faults {
		if r < 0 || r > 1 {
			errs = append(errs, fmt.Errorf("fault %s: rate %v is not from 0 to 1", k, r))
		}
	}
	if _, err := (telemetry.ExporterOptions{Protocol: o.Protocol}).ResolveProtocol(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (o *Options) ensureDefaults() {
	if o.Rate == 0 {
		o.Rate = 2
	}
	if o.Faults == nil {
		o.Faults = faults.Default()
	}
	if o.Environment == "" {
		o.Environment = "demo"
	}
	if o.Seed == 0 {
		o.Seed = uint64(time.Now().UnixNano())
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// serviceInfo is one row of the shop's service table.
type serviceInfo struct {
	name, version, owner string
}

// services lists the shop's services: name, version and the team that owns
// it (service.owner, whom to page).
func services() []serviceInfo {
	return []serviceInfo{
		{"frontend", "2.14.0", "team-web"},
		{"catalog", "1.9.3", "team-catalog"},
		{"search", "3.2.1", "team-discovery"},
		{"pricing", "1.4.0", "team-pricing"},
		{"inventory", "2.0.7", "team-fulfilment"},
		{"shipping", "1.11.2", "team-logistics"},
		{"recommendation", "0.18.0", "team-personalization"},
		{"cart", "1.6.5", "team-basket"},
		{"checkout", "4.1.0", "team-checkout"},
		{"payment", "2.8.4", "team-payments"},
		{"bank", "2024.06", "external-card-network"},
		{"orders", "3.5.2", "team-orders"},
	}
}

// ServiceNames returns the names of the shop's services.
func ServiceNames() []string {
	var names []string
	for _, s := range services() {
		names = append(names, s.name)
	}
	return names
}

// flushTimeout bounds the final export of buffered spans, so that a
// backend that is down does not hold up the stop for long.
const flushTimeout = 5 * time.Second

// Shop is the demo shop: a dozen services, each a real server on a
// loopback port with its own TracerProvider, the queue between orders and
// shipping, and the traffic generator. Build it with New, run it once with
// Run. It is not safe for concurrent use.
type Shop struct {
	opts      Options
	exporter  telemetry.Shared
	services  []*service
	byName    map[string]*service
	base      *http.Transport
	shipments *queue.Queue
	shipping  *shipping
	traffic   *traffic.Generator
}

// New binds every service's listener on 127.0.0.1 (a free port each),
// builds its TracerProvider and server, and the traffic generator. On
// error everything built so far is released again.
func New(ctx context.Context, opts Options) (_ *Shop, err error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts.ensureDefaults()
	exp, err := telemetry.NewExporter(ctx, telemetry.ExporterOptions{Endpoint: opts.OTLPEndpoint, Protocol: opts.Protocol})
	if err != nil {
		return nil, fmt.Errorf("otlp exporter: %w", err)
	}
	s := &Shop{
		opts:      opts,
		exporter:  telemetry.Shared{SpanExporter: exp},
		byName:    map[string]*service{},
		base:      &http.Transport{MaxIdleConnsPerHost: 32, IdleConnTimeout: 30 * time.Second},
		shipments: queue.New("shipments", 256, propagation.TraceContext{}),
	}
	defer func() {
		if err != nil {
			s.release(context.Background())
		}
	}()

	prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	dice := faults.NewDice(opts.Faults, opts.Seed)
	addrs := map[string]string{}
	for i, info := range services() {
		tp, err := telemetry.NewProvider(ctx, telemetry.Service{
			Name: info.name, Version: info.version, Owner: info.owner, Environment: opts.Environment,
		}, s.exporter)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", info.name, err)
		}
		svc := &service{
			name:   info.name,
			log:    opts.Logger,
			tp:     tp,
			tracer: tp.Tracer(instrumentationName),
			prop:   prop,
			rnd:    newRandom(opts.Seed + uint64(i)),
			dice:   dice,
			base:   s.base,
			addrs:  addrs,
		}
		s.services = append(s.services, svc)
		s.byName[info.name] = svc
		if svc.lis, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("%s: %w", info.name, err)
		}
		addrs[info.name] = svc.lis.Addr().String()
	}
	if err := s.build(); err != nil {
		return nil, err
	}
	frontend := "http://" + addrs["frontend"]
	if s.traffic, err = traffic.New(traffic.Options{
		Frontend:    frontend,
		Rate:        opts.Rate,
		ThinkTime:   opts.ThinkTime,
		Categories:  categoryNames(),
		SearchTerms: searchTerms(),
		Dice:        dice,
		Seed:        opts.Seed,
		Logger:      opts.Logger,
	}); err != nil {
		return nil, err
	}
	return s, nil
}

// build creates each service's handlers and clients, now that every
// address is known.
func (s *Shop) build() error {
	data := newCatalogData()
	seed := s.opts.Seed
	if _, err := newFrontend(s.byName["frontend"], seed); err != nil {
		return err
	}
	if _, err := newCatalog(s.byName["catalog"], data, seed); err != nil {
		return err
	}
	newSearch(s.byName["search"], data, seed)
	newPricing(s.byName["pricing"], data, seed)
	newInventory(s.byName["inventory"], seed)
	s.shipping = newShipping(s.byName["shipping"], s.shipments, seed)
	newRecommendation(s.byName["recommendation"], data, seed)
	newCart(s.byName["cart"], data, seed)
	if _, err := newCheckout(s.byName["checkout"]); err != nil {
		return err
	}
	newPayment(s.byName["payment"], seed)
	newBank(s.byName["bank"])
	if _, err := newOrders(s.byName["orders"], s.shipments, seed); err != nil {
		return err
	}
	return nil
}

// Addr returns the address of a service ("frontend", "bank", ...), or ""
// if there is none of that name.
func (s *Shop) Addr(service string) string {
	if svc, ok := s.byName[service]; ok {
		return svc.lis.Addr().String()
	}
	return ""
}

// Run serves until ctx is done, with traffic, then stops in the order
// that loses nothing: the traffic generator (its sessions finish their
// current request), the servers (in-flight requests finish), the queue
// (shipping drains it), and last the TracerProviders and the exporter,
// which flush every span. It returns a serving error or the flush's.
func (s *Shop) Run(ctx context.Context) error {
	log := s.opts.Logger
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, len(s.services))
	var servers sync.WaitGroup
	for _, svc := range s.services {
		servers.Go(func() {
			if err := svc.serve(); err != nil {
				errc <- err
				cancel()
			}
		})
	}
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		// NB: not runCtx: shipping drains the queue after the stop.
		s.shipping.consume(context.WithoutCancel(ctx))
	}()
	log.Info("demo shop started", "frontend", "http://"+s.Addr("frontend"), "services", len(s.services),
		"rate", s.opts.Rate, "faults", s.opts.Faults.String())

	s.traffic.Run(runCtx) // returns once runCtx is done and sessions ended
	var errs []error
	select {
	case err := <-errc:
		errs = append(errs, err)
	default:
	}

	stopCtx, stop := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer stop()
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, svc := range s.services {
		wg.Go(func() {
			if err := svc.shutdown(stopCtx); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	servers.Wait()
	s.shipments.Close()
	<-consumed
	if err := s.release(stopCtx); err != nil {
		errs = append(errs, err)
	}
	log.Info("demo shop stopped")
	return errors.Join(errs...)
}

// release closes clients, flushes and shuts down every TracerProvider (at
// once: they share the exporter, and a backend that is down should cost
// one timeout, not one per service) and then the exporter.
func (s *Shop) release(ctx context.Context) error {
	var errs []error
	for _, svc := range s.services {
		errs = append(errs, svc.closeClients())
		if svc.lis != nil {
			svc.lis.Close() // NB: already closed unless New failed half-way
		}
	}
	s.base.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, flushTimeout)
	defer cancel()
	var wg sync.WaitGroup
	flushErrs := make([]error, len(s.services))
	for i, svc := range s.services {
		wg.Go(func() { flushErrs[i] = svc.tp.Shutdown(ctx) })
	}
	wg.Wait()
	failed := 0
	var first error
	for _, err := range flushErrs {
		if err != nil {
			failed++
			first = cmp.Or(first, err)
		}
	}
	if failed > 0 {
		errs = append(errs, fmt.Errorf("flush spans of %d services: %w", failed, first))
	}
	if err := s.exporter.Close(ctx); err != nil && failed == 0 {
		errs = append(errs, fmt.Errorf("otlp exporter: %w", err))
	}
	return errors.Join(errs...)
}

// Run builds the shop and runs it until ctx is done; see [Shop.Run].
func Run(ctx context.Context, opts Options) error {
	s, err := New(ctx, opts)
	if err != nil {
		return err
	}
	return s.Run(ctx)
}
