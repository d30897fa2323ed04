// Package faults names the demo shop's fault scenarios, parses the flag
// that switches them, and rolls the dice that decide when one strikes.
//
// Each fault is decided where it would happen in a real system (the bank
// decides to be slow, the catalog issues N+1 queries), never requested by
// the caller, so that the traces show a cause deep in the chain and a
// symptom at the edge.
package faults

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Kind names one fault scenario.
type Kind string

// The fault scenarios of the demo shop.
const (
	// SlowBank makes the bank answer in hundreds of milliseconds to
	// seconds instead of tens: the p99 of checkout spikes.
	SlowBank Kind = "slow-bank"
	// BankTimeout makes the bank's issuer call time out; the bank answers
	// 504 and the checkout fails, with the error's origin at the bank.
	BankTimeout Kind = "bank-timeout"
	// Retry makes the bank answer 503 (busy) once; payment retries and
	// usually recovers, leaving an error span in a successful trace.
	Retry Kind = "retry"
	// NPlusOne makes the catalog load reviews with one query per product
	// instead of one join.
	NPlusOne Kind = "n-plus-one"
	// LargeTrace makes a session trigger a catalog reindex: one trace of
	// thousands of spans.
	LargeTrace Kind = "large-trace"
)

// Kinds returns every fault, in the order they are documented.
func Kinds() []Kind {
	return []Kind{SlowBank, BankTimeout, Retry, NPlusOne, LargeTrace}
}

// defaultRate is each fault's probability at its decision point when it is
// switched on without a rate: low enough that most traffic is healthy, high
// enough that a few minutes of the demo show every fault.
func defaultRate(k Kind) float64 {
	switch k {
	case SlowBank:
		return 0.05
	case BankTimeout:
		return 0.03
	case Retry:
		return 0.05
	case NPlusOne:
		return 0.1
	case LargeTrace:
		return 0.005
	}
	return 0
}

// Set maps each enabled fault to the probability, in [0, 1], with which it
// strikes at its decision point (a bank call, a catalog listing, a user
// session). A fault absent from the set never strikes.
type Set map[Kind]float64

// Default returns every fault at its default (low) rate.
func Default() Set {
	s := Set{}
	for _, k := range Kinds() {
		s[k] = defaultRate(k)
	}
	return s
}

// Parse reads the --faults flag: "default" or "" for [Default], "none" for
// no faults, or a comma-separated list of fault names, each optionally with
// "=rate" ("slow-bank,bank-timeout=0.5"). A name without a rate gets its
// default rate.
func Parse(s string) (Set, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "", "default":
		return Default(), nil
	case "none":
		return Set{}, nil
	}
	set := Set{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, rateText, hasRate := strings.Cut(part, "=")
		k := Kind(strings.TrimSpace(name))
		if !slices.Contains(Kinds(), k) {
			return nil, fmt.Errorf("unknown fault %q (known: %s)", name, knownNames())
		}
		rate := defaultRate(k)
		if hasRate {
			r, err := strconv.ParseFloat(strings.TrimSpace(rateText), 64)
			if err != nil || r < 0 || r > 1 {
				return nil, fmt.Errorf("fault %s: rate %q is not a number from 0 to 1", k, rateText)
			}
			rate = r
		}
		set[k] = rate
	}
	return set, nil
}

func knownNames() string {
	names := make([]string, 0, len(Kinds()))
	for _, k := range Kinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// String renders the set in the form Parse reads, in documented order.
func (s Set) String() string {
	if len(s) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range Kinds() {
		if r, ok := s[k]; ok {
			parts = append(parts, fmt.Sprintf("%s=%s", k, strconv.FormatFloat(r, 'g', -1, 64)))
		}
	}
	return strings.Join(parts, ",")
}

// Dice decides whether a fault strikes. It is safe for concurrent use.
type Dice struct {
	set Set

	mu  sync.Mutex
	rng *rand.Rand
}

// NewDice returns dice for set; equal seeds give equal sequences of
// decisions when they are asked in the same order.
func NewDice(set Set, seed uint64) *Dice {
	return &Dice{set: set, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Strike reports whether fault k strikes this time.
func (d *Dice) Strike(k Kind) bool {
	rate := d.set[k]
	if rate <= 0 {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rng.Float64() < rate
}
