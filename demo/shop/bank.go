package shop

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/clew-tracing/clew/demo/faults"
)

// issuerTimeout is how long the bank waits for a card issuer before it
// answers 504. It is shorter than payment's client timeout, so the error
// originates here, deep in the chain.
const issuerTimeout = 600 * time.Millisecond

// bank plays an external card network: slower than the shop's own
// services, and where three of the faults live.
type bank struct {
	*service
}

func newBank(s *service) *bank {
	b := &bank{service: s}
	mux := http.NewServeMux()
	s.handle(mux, "POST /v1/authorizations", b.authorize)
	s.serveHTTP(mux)
	return b
}

func (b *bank) authorize(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		AmountCents int    `json:"amount_cents"`
		Currency    string `json:"currency"`
	}
	if err := readJSON(r, &req); err != nil {
		return err
	}
	ctx, span := b.tracer.Start(r.Context(), "authorize with issuer", trace.WithAttributes(
		attribute.String("bank.issuer", "northwind-issuing"), attribute.String("payment.card.network", "visa"),
		attribute.Int("payment.amount_cents", req.AmountCents)))
	defer span.End()

	switch {
	case b.dice.Strike(faults.BankTimeout):
		span.AddEvent("waiting for issuer", trace.WithAttributes(attribute.String("bank.timeout", issuerTimeout.String())))
		if err := sleep(ctx, issuerTimeout); err != nil {
			fail(span, err)
			return err
		}
		err := fmt.Errorf("issuer northwind-issuing did not answer within %v", issuerTimeout)
		fail(span, err)
		return httpErrorf(http.StatusGatewayTimeout, "%v", err)
	case b.dice.Strike(faults.Retry):
		_ = b.work(ctx, 2*time.Millisecond)
		err := errors.New("card network busy: too many authorizations in flight, retry later")
		fail(span, err)
		return httpErrorf(http.StatusServiceUnavailable, "%v", err)
	}
	took := b.rnd.between(15*time.Millisecond, 40*time.Millisecond)
	if b.dice.Strike(faults.SlowBank) {
		took = b.rnd.between(400*time.Millisecond, 1500*time.Millisecond)
		span.AddEvent("issuer queue backlog", trace.WithAttributes(attribute.String("bank.delay", took.String())))
	}
	if err := sleep(ctx, took); err != nil {
		fail(span, err)
		return err
	}
	id := span.SpanContext().SpanID().String()[:12]
	span.SetAttributes(attribute.String("bank.authorization_id", id), attribute.Bool("bank.approved", true))
	return writeJSON(w, http.StatusOK, map[string]any{"authorization_id": id, "approved": true})
}
