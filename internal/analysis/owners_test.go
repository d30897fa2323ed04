package analysis

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clew-tracing/clew/internal/model"
)

const ownersYAML = `
attributes:
  team: [team]
services:
  - service: "bank*"
    team: team-bank
    contact: "#bank-oncall"
    runbook: https://runbooks.example/bank
  - service: bank-ledger
    team: team-ledger
  - service: "*"
    runbook: https://runbooks.example/generic
  - service: payment
    contact: payments@example.com
`

func TestOwnersLookup(t *testing.T) {
	o, err := ParseOwners([]byte(ownersYAML))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		service string
		res     *model.Resource
		want    Owner
	}{
		{"bank", nil, Owner{Team: "team-bank", Contact: "#bank-oncall", Runbook: "https://runbooks.example/bank", Source: `owners file entry "bank*"`}},
		{"bank-ledger", nil, Owner{Team: "team-ledger", Source: `owners file entry "bank-ledger"`}}, // exact beats glob
		{"payment", res("payment", "team", "team-pay", "service.owner", "ignored", "runbook", "rb"),
			Owner{Team: "team-pay", Contact: "payments@example.com", Runbook: "rb", Source: "resource attribute team"}},
		{"catalog", res("catalog"), Owner{Runbook: "https://runbooks.example/generic"}},
		{"catalog", res("catalog", "oncall", "pager:catalog"), Owner{Contact: "pager:catalog", Runbook: "https://runbooks.example/generic"}},
	} {
		if got := o.Lookup(tc.service, tc.res); got != tc.want {
			t.Errorf("Lookup(%s) = %+v, want %+v", tc.service, got, tc.want)
		}
	}
}

func TestOwnersDefaults(t *testing.T) {
	var o *Owners // nil: resource attributes with the default keys
	got := o.Lookup("checkout", res("checkout", "service.owner", "team-checkout", "oncall", "#co", "runbook.url", "https://rb"))
	want := Owner{Team: "team-checkout", Contact: "#co", Runbook: "https://rb", Source: "resource attribute service.owner"}
	if got != want {
		t.Errorf("Lookup = %+v, want %+v", got, want)
	}
	if got := o.Lookup("x", nil); got != (Owner{}) {
		t.Errorf("unknown owner = %+v", got)
	}
}

func TestOwnersErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"services:\n  - service: '[bank'\n    team: x\n", "syntax error in pattern"},
		{"services:\n  - team: x\n", "empty service"},
		{"servces: []\n", "servces"},
		{"services: {bank: x}\n", "cannot unmarshal"},
	} {
		_, err := ParseOwners([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.yaml, err, tc.want)
		}
	}
	if o, err := ParseOwners(nil); err != nil || o == nil {
		t.Errorf("empty file: %v", err)
	}
}

func TestLoadOwners(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "owners.yaml")
	if err := os.WriteFile(name, []byte(ownersYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	o, err := LoadOwners(name)
	if err != nil || o.Lookup("bank-eu", nil).Team != "team-bank" {
		t.Errorf("LoadOwners: %v", err)
	}
	if _, err := LoadOwners(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "owners file") {
		t.Errorf("missing file: %v", err)
	}
}
