package shop

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/clew-tracing/clew/demo/db"
)

// maxBankAttempts bounds payment's retries of a busy bank.
const maxBankAttempts = 3

// payment charges cards through the bank and records the payments.
type payment struct {
	*service
	ledger *db.DB
	bank   *peer
}

func newPayment(s *service, seed uint64) *payment {
	p := &payment{
		service: s,
		ledger:  db.New(s.tracer, db.Options{System: "postgresql", Name: "payments", Server: "payments-db.internal", Port: 5432, Latency: 3 * time.Millisecond, Seed: seed}),
		bank:    s.httpPeer("bank"),
	}
	// The bank's own timeout (issuerTimeout) is shorter, so the bank, not
	// this client, reports a timeout.
	p.bank.client.Timeout = 3 * time.Second
	mux := http.NewServeMux()
	s.handle(mux, "POST /charges", p.charge)
	s.serveHTTP(mux)
	return p
}

type chargeRequest struct {
	User        string `json:"user"`
	AmountCents int    `json:"amount_cents"`
	Currency    string `json:"currency"`
}

func (p *payment) charge(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var req chargeRequest
	if err := readJSON(r, &req); err != nil {
		return err
	}
	if req.AmountCents <= 0 {
		return httpErrorf(http.StatusBadRequest, "amount must be positive")
	}
	if err := p.fraudCheck(ctx, req); err != nil {
		return err
	}
	auth, err := p.authorize(ctx, req)
	if err != nil {
		return httpErrorf(http.StatusBadGateway, "card authorization failed: %v", err)
	}
	if err := p.ledger.Query(ctx, "INSERT INTO payments (user_id, amount_cents, currency, authorization_id) VALUES ($1, $2, $3, $4)", 1); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"payment_id": "pay-" + auth})
}

// fraudCheck scores the charge: a custom span with the score.
func (p *payment) fraudCheck(ctx context.Context, req chargeRequest) error {
	ctx, span := p.tracer.Start(ctx, "fraud check", trace.WithAttributes(
		attribute.String("enduser.id", req.User), attribute.Int("payment.amount_cents", req.AmountCents)))
	defer span.End()
	if err := p.work(ctx, 2*time.Millisecond); err != nil {
		return err
	}
	score := float64(req.AmountCents%97) / 100
	span.SetAttributes(attribute.Float64("payment.risk_score", score))
	span.AddEvent("rules evaluated", trace.WithAttributes(attribute.Int("payment.rules", 12)))
	return nil
}

// authorize asks the bank to authorize the charge, retrying (with
// backoff) while the bank says it is busy. A timeout is not retried: the
// charge may have gone through.
func (p *payment) authorize(ctx context.Context, req chargeRequest) (string, error) {
	ctx, span := p.tracer.Start(ctx, "charge card", trace.WithAttributes(
		attribute.Int("payment.amount_cents", req.AmountCents), attribute.String("payment.currency", req.Currency),
		attribute.String("payment.card.network", "visa")))
	defer span.End()
	for attempt := 1; ; attempt++ {
		var out struct {
			AuthorizationID string `json:"authorization_id"`
		}
		err := p.bank.do(ctx, "POST", "/v1/authorizations", "/v1/authorizations",
			map[string]any{"amount_cents": req.AmountCents, "currency": req.Currency, "card_token": "tok_" + req.User}, &out)
		span.SetAttributes(attribute.Int("payment.attempts", attempt))
		if err == nil {
			if attempt > 1 {
				span.AddEvent("recovered after retry", trace.WithAttributes(attribute.Int("payment.attempts", attempt)))
			}
			return out.AuthorizationID, nil
		}
		var se *statusError
		if !errors.As(err, &se) || se.code != http.StatusServiceUnavailable || attempt == maxBankAttempts {
			fail(span, err)
			return "", err
		}
		backoff := 20 * time.Millisecond << (attempt - 1)
		span.AddEvent("retry", trace.WithAttributes(
			attribute.Int("payment.attempt", attempt), attribute.String("payment.retry.reason", err.Error()),
			attribute.String("payment.retry.backoff", backoff.String())))
		if err := sleep(ctx, backoff); err != nil {
			fail(span, err)
			return "", fmt.Errorf("retry interrupted: %w", err)
		}
	}
}
