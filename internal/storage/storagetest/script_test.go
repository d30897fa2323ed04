package storagetest

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/memstore"
)

func strV(s string) model.Value { return model.StringValue(s) }
func intV(i int64) model.Value  { return model.IntValue(i) }

var update = flag.Bool("update", false, "rewrite the expected outputs of testdata/*.test from memstore")

func memFactory(testing.TB, string) storage.Backend { return memstore.New() }

// TestScripts runs every script against memstore, the reference backend,
// and with -update rewrites the scripts' expected outputs from its answers.
func TestScripts(t *testing.T) {
	names, err := scriptNames("")
	if err != nil || len(names) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	s := &suite{f: memFactory, opts: Options{Ephemeral: true}}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name)
			text, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			sc, err := ParseScript(name, string(text))
			if err != nil {
				t.Fatal(err)
			}
			outs := s.runScript(t, s.open(t, t.TempDir()), sc, false, *update)
			if !*update {
				return
			}
			if err := os.WriteFile(path, []byte(sc.Render(outs)), 0o644); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestParseScriptRoundTrip(t *testing.T) {
	names, err := scriptNames("")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		text, err := scripts.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := ParseScript(name, string(text))
		if err != nil {
			t.Fatal(err)
		}
		if got := sc.Render(nil); got != string(text) {
			t.Errorf("%s: parse and render does not round-trip:\n%s", name, got)
		}
		for _, b := range sc.Blocks {
			if strings.HasPrefix(b.Cmd, "find") || strings.HasPrefix(b.Cmd, "values") {
				if !b.HasSep || len(b.Output) == 0 {
					t.Errorf("%s:%d: %s has no expected output", name, b.Line, b.Cmd)
				}
			}
		}
	}
}

func TestParseScript(t *testing.T) {
	sc, err := ParseScript("x.test", "# c\n\nload\na\nb\n\nfind x=1\n----\nr1\nr2\n\n# tail\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Blocks) != 2 {
		t.Fatalf("got %d blocks, want 2", len(sc.Blocks))
	}
	b0, b1 := sc.Blocks[0], sc.Blocks[1]
	if b0.Cmd != "load" || !slices.Equal(b0.Input, []string{"a", "b"}) || b0.HasSep || b0.Line != 3 {
		t.Errorf("block 0 = %+v", b0)
	}
	if b1.Cmd != "find x=1" || len(b1.Input) != 0 || !b1.HasSep || !slices.Equal(b1.Output, []string{"r1", "r2"}) || b1.Line != 7 {
		t.Errorf("block 1 = %+v", b1)
	}
	if !slices.Equal(sc.Trailer, []string{"# tail"}) {
		t.Errorf("trailer = %q", sc.Trailer)
	}
	if got := sc.Render([][]string{nil, {"new"}}); got != "# c\n\nload\na\nb\n\nfind x=1\n----\nnew\n\n# tail\n" {
		t.Errorf("render = %q", got)
	}
	if _, err := ParseScript("bad.test", "----\n"); err == nil {
		t.Error("a separator without a command parsed")
	}
}

func TestTokenize(t *testing.T) {
	f := func(in string, want ...string) {
		t.Helper()
		got, err := Tokenize(in)
		if err != nil {
			t.Fatalf("Tokenize(%q): %v", in, err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("Tokenize(%q) = %q, want %q", in, got, want)
		}
	}
	f("find a=1  b=2", "find", "a=1", "b=2")
	f(`name="GET /" x=y`, `name="GET /"`, "x=y")
	f(`msg="a \" b" z`, `msg="a \" b"`, "z")
	if _, err := Tokenize(`a="open`); err == nil {
		t.Error("unterminated quote accepted")
	}
}

func TestCondition(t *testing.T) {
	f := func(tok string, want storage.Condition) {
		t.Helper()
		got, err := condition(tok)
		if err != nil {
			t.Fatalf("condition(%q): %v", tok, err)
		}
		if got.String() != want.String() || got.Value.Type != want.Value.Type || got.Scope != want.Scope {
			t.Errorf("condition(%q) = %v (%+v), want %v (%+v)", tok, got, got, want, want)
		}
	}
	f("service=shop", storage.Condition{Field: storage.FieldService, Op: storage.OpEqual, Value: strV("shop")})
	f(`name=~"GET .*"`, storage.Condition{Field: storage.FieldName, Op: storage.OpRegex, Value: strV("GET .*")})
	f("kind=server", storage.Condition{Field: storage.FieldKind, Op: storage.OpEqual, Value: intV(2)})
	f("status!=unset", storage.Condition{Field: storage.FieldStatus, Op: storage.OpNotEqual, Value: intV(0)})
	f("duration>=1ms", storage.Condition{Field: storage.FieldDuration, Op: storage.OpGreaterEqual, Value: intV(1e6)})
	f("span.http.status_code<500", storage.Condition{Field: storage.FieldAttribute, Scope: storage.ScopeSpan, Key: "http.status_code", Op: storage.OpLess, Value: intV(500)})
	f(`.code="500"`, storage.Condition{Field: storage.FieldAttribute, Key: "code", Op: storage.OpEqual, Value: strV("500")})
	f("resource.x!=nil", storage.Condition{Field: storage.FieldAttribute, Scope: storage.ScopeResource, Key: "x", Op: storage.OpExists})
	f("event.x=nil", storage.Condition{Field: storage.FieldAttribute, Scope: storage.ScopeEvent, Key: "x", Op: storage.OpNotExists})
	for _, bad := range []string{"nope=1", "bogus.x=1", "kind=sideways", "span.x>nil", "=1"} {
		if _, err := condition(bad); err == nil {
			t.Errorf("condition(%q) accepted", bad)
		}
	}
}
