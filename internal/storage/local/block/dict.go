package block

import (
	"cmp"
	"slices"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
)

// The dict file holds what is shared by every row group of a block:
//
//	symbols    uvarint(n) n*(uvarint(len) bytes)   symbol 0 is always ""
//	resources  uvarint(n) n*resource               resource id k+1 is entry k; 0 is nil
//	scopes     uvarint(n) n*scope                  likewise
//	services   uvarint(n) n*uvarint(symbol)        sorted by name
//	operations uvarint(n) n*(uvarint(service) uvarint(name) u8(kind))
//	attrnames  uvarint(n) n*(u8(scope) uvarint(symbol))
//
//	resource = uvarint(service symbol) uvarint(len) schemaURL attrs
//	scope    = uvarint(len) name uvarint(len) version uvarint(len) schemaURL attrs
//	attrs    = uvarint(n) n*(uvarint(key symbol) value)   (value.go)
//
// Symbols hold service names, span names and attribute keys: strings that
// every query compares and whose number grows with the variety of the
// instrumentation, not with the number of spans.

// dictBuilder accumulates a block's dictionaries while it is written.
type dictBuilder struct {
	syms    map[string]uint32
	symList []string

	resIDs  map[string]uint32 // inline encoding -> id (1-based)
	resList []*model.Resource
	resSvc  []uint32 // service symbol per resource

	scopeIDs  map[string]uint32
	scopeList []*model.Scope

	services  map[uint32]struct{}
	ops       map[opKey]struct{}
	attrNames map[attrNameKey]struct{}

	scratch []byte
}

type opKey struct {
	service, name uint32
	kind          model.SpanKind
}

type attrNameKey struct {
	scope storage.AttrScope
	key   uint32
}

func newDictBuilder() *dictBuilder {
	d := &dictBuilder{
		syms:      map[string]uint32{"": 0},
		symList:   []string{""},
		resIDs:    map[string]uint32{},
		scopeIDs:  map[string]uint32{},
		services:  map[uint32]struct{}{},
		ops:       map[opKey]struct{}{},
		attrNames: map[attrNameKey]struct{}{},
	}
	return d
}

// sym returns the symbol id of s, adding it.
func (d *dictBuilder) sym(s string) uint32 {
	if id, ok := d.syms[s]; ok {
		return id
	}
	id := uint32(len(d.symList))
	s = cloneString(s) // NB: do not retain the caller's (possibly large) backing memory
	d.syms[s] = id
	d.symList = append(d.symList, s)
	return id
}

// cloneString copies s so that the dictionary does not pin the memory of
// the span it came from.
func cloneString(s string) string { return string([]byte(s)) }

// resource returns the dictionary id of r (0 for nil), adding it.
func (d *dictBuilder) resource(r *model.Resource) uint32 {
	if r == nil {
		return 0
	}
	b := d.scratch[:0]
	b = appendBytes(b, r.ServiceName)
	b = appendBytes(b, r.SchemaURL)
	b = appendInlineKVs(b, r.Attributes)
	d.scratch = b
	if id, ok := d.resIDs[string(b)]; ok {
		return id
	}
	c := &model.Resource{ServiceName: cloneString(r.ServiceName), SchemaURL: cloneString(r.SchemaURL), Attributes: cloneKVs(r.Attributes)}
	d.resList = append(d.resList, c)
	d.resSvc = append(d.resSvc, d.sym(c.ServiceName))
	id := uint32(len(d.resList))
	d.resIDs[string(b)] = id
	for i := range c.Attributes {
		d.attrNames[attrNameKey{storage.ScopeResource, d.sym(c.Attributes[i].Key)}] = struct{}{}
	}
	return id
}

// scope returns the dictionary id of s (0 for nil), adding it.
func (d *dictBuilder) scope(s *model.Scope) uint32 {
	if s == nil {
		return 0
	}
	b := d.scratch[:0]
	b = appendBytes(b, s.Name)
	b = appendBytes(b, s.Version)
	b = appendBytes(b, s.SchemaURL)
	b = appendInlineKVs(b, s.Attributes)
	d.scratch = b
	if id, ok := d.scopeIDs[string(b)]; ok {
		return id
	}
	c := &model.Scope{Name: cloneString(s.Name), Version: cloneString(s.Version), SchemaURL: cloneString(s.SchemaURL), Attributes: cloneKVs(s.Attributes)}
	d.scopeList = append(d.scopeList, c)
	id := uint32(len(d.scopeList))
	d.scopeIDs[string(b)] = id
	for i := range c.Attributes {
		d.attrNames[attrNameKey{storage.ScopeInstrumentation, d.sym(c.Attributes[i].Key)}] = struct{}{}
	}
	return id
}

// appendInlineKVs encodes a list with raw keys (for dedup keys only).
func appendInlineKVs(b []byte, kvs []model.KeyValue) []byte {
	b = appendUvarint(b, uint64(len(kvs)))
	for i := range kvs {
		b = appendBytes(b, kvs[i].Key)
		b = appendValue(b, &kvs[i].Value)
	}
	return b
}

func (d *dictBuilder) appendSymKVs(b []byte, kvs []model.KeyValue) []byte {
	b = appendUvarint(b, uint64(len(kvs)))
	for i := range kvs {
		b = appendUvarint(b, uint64(d.sym(kvs[i].Key)))
		b = appendValue(b, &kvs[i].Value)
	}
	return b
}

// marshal renders the dict payload.
func (d *dictBuilder) marshal() []byte {
	// NB: the symbol table goes first in the file but is rendered last, in
	// case rendering the rest adds a symbol.
	var b []byte
	b = appendUvarint(b, uint64(len(d.resList)))
	for i, r := range d.resList {
		b = appendUvarint(b, uint64(d.resSvc[i]))
		b = appendBytes(b, r.SchemaURL)
		b = d.appendSymKVs(b, r.Attributes)
	}
	b = appendUvarint(b, uint64(len(d.scopeList)))
	for _, s := range d.scopeList {
		b = appendBytes(b, s.Name)
		b = appendBytes(b, s.Version)
		b = appendBytes(b, s.SchemaURL)
		b = d.appendSymKVs(b, s.Attributes)
	}

	svcs := make([]uint32, 0, len(d.services))
	for s := range d.services {
		svcs = append(svcs, s)
	}
	slices.SortFunc(svcs, func(a, b uint32) int { return cmp.Compare(d.symList[a], d.symList[b]) })
	b = appendUvarint(b, uint64(len(svcs)))
	for _, s := range svcs {
		b = appendUvarint(b, uint64(s))
	}

	ops := make([]opKey, 0, len(d.ops))
	for o := range d.ops {
		ops = append(ops, o)
	}
	slices.SortFunc(ops, func(x, y opKey) int {
		return cmp.Or(cmp.Compare(d.symList[x.service], d.symList[y.service]),
			cmp.Compare(d.symList[x.name], d.symList[y.name]), cmp.Compare(x.kind, y.kind))
	})
	b = appendUvarint(b, uint64(len(ops)))
	for _, o := range ops {
		b = appendUvarint(b, uint64(o.service))
		b = appendUvarint(b, uint64(o.name))
		b = append(b, byte(o.kind))
	}

	names := make([]attrNameKey, 0, len(d.attrNames))
	for a := range d.attrNames {
		names = append(names, a)
	}
	slices.SortFunc(names, func(x, y attrNameKey) int {
		return cmp.Or(cmp.Compare(d.symList[x.key], d.symList[y.key]), cmp.Compare(x.scope, y.scope))
	})
	b = appendUvarint(b, uint64(len(names)))
	for _, a := range names {
		b = append(b, byte(a.scope))
		b = appendUvarint(b, uint64(a.key))
	}

	var out []byte
	out = appendUvarint(out, uint64(len(d.symList)))
	for _, s := range d.symList {
		out = appendBytes(out, s)
	}
	return append(out, b...)
}

// blockDict is a decoded dict file. Its resources and scopes are the
// block's own copies: they are cloned before being handed to callers.
type blockDict struct {
	syms      []string
	symIDs    map[string]uint32
	resources []*model.Resource // index = id-1
	resSvc    []uint32
	scopes    []*model.Scope
	catalog   Catalog
	// svcIDs and nameIDs list the symbols used as service and span names.
	svcIDs []uint32
}

// parseDict decodes a dict payload, validating every reference.
func parseDict(b []byte) (*blockDict, error) {
	r := newReader(b)
	d := &blockDict{}
	n := r.count(1)
	if n == 0 {
		return nil, errMalformed
	}
	d.syms = make([]string, n)
	d.symIDs = make(map[string]uint32, n)
	for i := range d.syms {
		d.syms[i] = string(r.lenBytes())
		if _, dup := d.symIDs[d.syms[i]]; dup && r.err == nil {
			return nil, errMalformed
		}
		d.symIDs[d.syms[i]] = uint32(i)
	}
	if r.err != nil || d.syms[0] != "" {
		return nil, errMalformed
	}
	nsym := len(d.syms)
	readKVs := func() []model.KeyValue {
		n := r.count(2)
		if n == 0 {
			return nil
		}
		kvs := make([]model.KeyValue, n)
		for i := range kvs {
			kvs[i].Key = d.syms[r.index(nsym)]
			kvs[i].Value = readValue(&r, 0)
		}
		return kvs
	}
	n = r.count(3)
	d.resources = make([]*model.Resource, n)
	d.resSvc = make([]uint32, n)
	for i := range d.resources {
		svc := r.index(nsym)
		d.resSvc[i] = uint32(svc)
		d.resources[i] = &model.Resource{ServiceName: d.syms[svc], SchemaURL: string(r.lenBytes()), Attributes: readKVs()}
	}
	n = r.count(4)
	d.scopes = make([]*model.Scope, n)
	for i := range d.scopes {
		s := &model.Scope{}
		s.Name = string(r.lenBytes())
		s.Version = string(r.lenBytes())
		s.SchemaURL = string(r.lenBytes())
		s.Attributes = readKVs()
		d.scopes[i] = s
	}
	n = r.count(1)
	d.svcIDs = make([]uint32, n)
	d.catalog.Services = make([]string, n)
	for i := range d.svcIDs {
		d.svcIDs[i] = uint32(r.index(nsym))
		d.catalog.Services[i] = d.syms[d.svcIDs[i]]
	}
	n = r.count(3)
	d.catalog.Operations = make([]storage.Operation, n)
	for i := range d.catalog.Operations {
		svc := r.index(nsym)
		name := r.index(nsym)
		kind := model.SpanKind(r.byte())
		d.catalog.Operations[i] = storage.Operation{Service: d.syms[svc], Name: d.syms[name], Kind: kind}
	}
	n = r.count(2)
	d.catalog.Attributes = make([]storage.AttributeName, n)
	for i := range d.catalog.Attributes {
		scope := storage.AttrScope(r.byte())
		if scope < storage.ScopeSpan || scope > storage.ScopeLink {
			r.fail()
		}
		d.catalog.Attributes[i] = storage.AttributeName{Scope: scope, Name: d.syms[r.index(nsym)]}
	}
	if !r.done() {
		return nil, errMalformed
	}
	return d, nil
}
