package faults

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestParse(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		got, err := Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		if got.String() != want {
			t.Errorf("Parse(%q) = %s, want %s", in, got, want)
		}
	}
	f("", "slow-bank=0.05,bank-timeout=0.03,retry=0.05,n-plus-one=0.1,large-trace=0.005")
	f("default", Default().String())
	f("none", "none")
	f("retry", "retry=0.05")
	f(" bank-timeout=1, slow-bank=0 ", "slow-bank=0,bank-timeout=1")
	f("large-trace=0.25,n-plus-one", "n-plus-one=0.1,large-trace=0.25")

	for _, bad := range []string{"nope", "retry=2", "retry=-0.1", "retry=x"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
}

func TestDice(t *testing.T) {
	d := NewDice(Set{Retry: 1, SlowBank: 0}, 1)
	for range 100 {
		if !d.Strike(Retry) {
			t.Fatal("rate 1 did not strike")
		}
		if d.Strike(SlowBank) || d.Strike(NPlusOne) {
			t.Fatal("rate 0 or absent fault struck")
		}
	}
	// A rate in between strikes sometimes, and the same seed decides the same.
	a, b := NewDice(Set{NPlusOne: 0.5}, 7), NewDice(Set{NPlusOne: 0.5}, 7)
	hits := 0
	for range 1000 {
		x := a.Strike(NPlusOne)
		if x != b.Strike(NPlusOne) {
			t.Fatal("equal seeds decided differently")
		}
		if x {
			hits++
		}
	}
	if hits < 400 || hits > 600 {
		t.Errorf("rate 0.5 struck %d of 1000 times", hits)
	}
}
