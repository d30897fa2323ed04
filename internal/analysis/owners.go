package analysis

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/clew-tracing/clew/internal/model"
)

// Owner says who answers for a service.
type Owner struct {
	// Team is the owning team ("" when unknown).
	Team string
	// Contact is how to reach it now: an on-call alias, a channel, a pager key.
	Contact string
	// Runbook is a URL to start from.
	Runbook string
	// Source says where Team came from, for a person wondering why:
	// `owners file entry "bank*"` or "resource attribute service.owner".
	Source string
}

// OwnerKeys are the resource attributes read for each owner field; the
// first one present wins.
type OwnerKeys struct {
	Team    []string `yaml:"team"`
	Contact []string `yaml:"contact"`
	Runbook []string `yaml:"runbook"`
}

// DefaultOwnerKeys are the resource attributes services commonly set.
var DefaultOwnerKeys = OwnerKeys{
	Team:    []string{"service.owner", "owner", "team", "service.team"},
	Contact: []string{"oncall", "service.oncall", "contact", "owner.contact"},
	Runbook: []string{"runbook", "runbook.url", "service.runbook"},
}

// OwnerRule assigns an owner to the services whose name matches Service,
// a name or a path.Match glob ("bank-*", "payment?").
type OwnerRule struct {
	Service string `yaml:"service"`
	Team    string `yaml:"team"`
	Contact string `yaml:"contact"`
	Runbook string `yaml:"runbook"`
}

// ownersFile is the YAML layout of an ownership file:
//
//	attributes:            # optional; resource attributes to read, first present wins
//	  team: [service.owner, team]
//	  contact: [oncall]
//	  runbook: [runbook.url]
//	services:
//	  - service: checkout
//	    team: team-checkout
//	    contact: "#checkout-oncall"
//	    runbook: https://runbooks.example/checkout
//	  - service: "bank*"
//	    team: team-bank
type ownersFile struct {
	Attributes *OwnerKeys  `yaml:"attributes"`
	Services   []OwnerRule `yaml:"services"`
}

// Owners resolves the owner of a service from an ownership file and the
// service's resource attributes. The file wins: it is maintained on
// purpose, while resource attributes are often copied from service to
// service; fields the matching rule leaves empty are taken from the
// attributes. Of the rules, an exact name beats a glob, and among globs
// the first in the file wins.
//
// An Owners is read-only once built and safe for concurrent use. The nil
// *Owners reads resource attributes with [DefaultOwnerKeys].
type Owners struct {
	keys  OwnerKeys
	exact map[string]OwnerRule
	globs []OwnerRule
}

// NewOwners builds an Owners from rules and attribute keys (empty lists of
// keys take the defaults). It fails on a malformed glob or an empty
// service pattern.
func NewOwners(rules []OwnerRule, keys OwnerKeys) (*Owners, error) {
	if len(keys.Team) == 0 {
		keys.Team = DefaultOwnerKeys.Team
	}
	if len(keys.Contact) == 0 {
		keys.Contact = DefaultOwnerKeys.Contact
	}
	if len(keys.Runbook) == 0 {
		keys.Runbook = DefaultOwnerKeys.Runbook
	}
	o := &Owners{keys: keys, exact: map[string]OwnerRule{}}
	var errs []error
	for i, r := range rules {
		switch {
		case r.Service == "":
			errs = append(errs, fmt.Errorf("rule %d: empty service", i+1))
		case !strings.ContainsAny(r.Service, `*?[\`):
			if _, dup := o.exact[r.Service]; !dup {
				o.exact[r.Service] = r
			}
		default:
			if _, err := path.Match(r.Service, ""); err != nil {
				errs = append(errs, fmt.Errorf("rule %d: service pattern %q: %w", i+1, r.Service, err))
				continue
			}
			o.globs = append(o.globs, r)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return o, nil
}

// ParseOwners reads an ownership file's YAML (see the layout above).
// Unknown keys are an error, so that a typo does not silently drop an owner.
func ParseOwners(data []byte) (*Owners, error) {
	var f ownersFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	var keys OwnerKeys
	if f.Attributes != nil {
		keys = *f.Attributes
	}
	return NewOwners(f.Services, keys)
}

// LoadOwners reads the ownership file at name.
func LoadOwners(name string) (*Owners, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("owners file: %w", err)
	}
	o, err := ParseOwners(b)
	if err != nil {
		return nil, fmt.Errorf("owners file %s: %w", name, err)
	}
	return o, nil
}

// rule returns the rule for service, if any.
func (o *Owners) rule(service string) (OwnerRule, bool) {
	if r, ok := o.exact[service]; ok {
		return r, true
	}
	for _, r := range o.globs {
		if ok, _ := path.Match(r.Service, service); ok {
			return r, true
		}
	}
	return OwnerRule{}, false
}

// Lookup returns the owner of service, whose spans carry res (nil when
// unknown).
func (o *Owners) Lookup(service string, res *model.Resource) Owner {
	keys := DefaultOwnerKeys
	var own Owner
	if o != nil {
		keys = o.keys
		if r, ok := o.rule(service); ok {
			own = Owner{Team: r.Team, Contact: r.Contact, Runbook: r.Runbook}
			if r.Team != "" {
				own.Source = fmt.Sprintf("owners file entry %q", r.Service)
			}
		}
	}
	if res == nil {
		return own
	}
	if own.Team == "" {
		if v, k := firstAttr(res, keys.Team); v != "" {
			own.Team, own.Source = v, "resource attribute "+k
		}
	}
	if own.Contact == "" {
		own.Contact, _ = firstAttr(res, keys.Contact)
	}
	if own.Runbook == "" {
		own.Runbook, _ = firstAttr(res, keys.Runbook)
	}
	return own
}

func firstAttr(res *model.Resource, keys []string) (value, key string) {
	for _, k := range keys {
		if v, ok := model.Find(res.Attributes, k); ok && v.AsString() != "" {
			return v.AsString(), k
		}
	}
	return "", ""
}
