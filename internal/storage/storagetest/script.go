package storagetest

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clew-tracing/clew/internal/model"
)

// scripts holds the conformance scripts; testdata/README.md describes
// their language.
//
//go:embed testdata/*.test
var scripts embed.FS

// scriptNames lists the embedded scripts whose names start with prefix.
func scriptNames(prefix string) ([]string, error) {
	names, err := fs.Glob(scripts, "testdata/"+prefix+"*.test")
	if err != nil {
		return nil, err
	}
	for i, n := range names {
		names[i] = path.Base(n)
	}
	slices.Sort(names)
	return names, nil
}

// runScripts runs every embedded script whose name starts with prefix, each
// on a fresh backend; on a storage.Flusher a second time with a Flush after
// every load.
func (s *suite) runScripts(t *testing.T, prefix string) {
	names, err := scriptNames(prefix)
	if err != nil || len(names) == 0 {
		t.Fatalf("no embedded scripts %s*.test: %v", prefix, err)
	}
	for _, name := range names {
		t.Run(strings.TrimSuffix(name, ".test"), func(t *testing.T) {
			text, err := scripts.ReadFile("testdata/" + name)
			if err != nil {
				t.Fatal(err)
			}
			sc, err := ParseScript(name, string(text))
			if err != nil {
				t.Fatal(err)
			}
			h := s.open(t, t.TempDir())
			if !h.isFlusher() {
				s.runScript(t, h, sc, false, false)
				return
			}
			t.Run("AsWritten", func(t *testing.T) { s.runScript(t, h, sc, false, false) })
			t.Run("FlushAfterLoad", func(t *testing.T) {
				s.runScript(t, s.open(t, t.TempDir()), sc, true, false)
			})
		})
	}
}

// runScript executes a script on h, reporting every output that differs
// from the expected one unless record is set, and returns the outputs it
// got (nil for commands without output).
func (s *suite) runScript(t *testing.T, h *handle, sc *Script, flushAfterLoad, record bool) [][]string {
	t.Helper()
	r := &scriptRunner{
		t:              t,
		h:              h,
		base:           s.opts.baseTime(),
		flushAfterLoad: flushAfterLoad,
		resources:      map[string]*model.Resource{},
		scopes:         map[string]*model.Scope{},
	}
	outs := make([][]string, len(sc.Blocks))
	for i, b := range sc.Blocks {
		got, hasOutput, err := r.exec(b)
		if err != nil {
			t.Fatalf("%s:%d: %s: %v", sc.Name, b.Line, b.Cmd, err)
		}
		if !hasOutput {
			if b.HasSep {
				t.Fatalf("%s:%d: %s: command has no output but the script has %q", sc.Name, b.Line, b.Cmd, ScriptSep)
			}
			continue
		}
		if len(got) == 0 {
			got = []string{"(none)"}
		}
		outs[i] = got
		if !record && !slices.Equal(got, b.Output) {
			t.Errorf("%s:%d: %s\n%s\ngot:\n  %s\nwant:\n  %s", sc.Name, b.Line, b.Cmd,
				strings.Join(b.Input, "\n"), strings.Join(got, "\n  "), strings.Join(b.Output, "\n  "))
		}
	}
	return outs
}

// scriptRunner holds the state of one script run.
type scriptRunner struct {
	t              *testing.T
	h              *handle
	base           time.Time
	flushAfterLoad bool
	// Resources and scopes with the same content are shared, as a batch
	// from an SDK shares them.
	resources map[string]*model.Resource
	scopes    map[string]*model.Scope
}

// exec runs one command and returns its output lines and whether the
// command has output at all.
func (r *scriptRunner) exec(b *ScriptBlock) ([]string, bool, error) {
	toks, err := Tokenize(b.Cmd)
	if err != nil {
		return nil, false, err
	}
	cmd, args := toks[0], toks[1:]
	ctx := r.t.Context()
	switch cmd {
	case "load":
		if len(args) > 0 {
			return nil, false, fmt.Errorf("load takes no arguments")
		}
		var spans []*model.Span
		for _, l := range b.Input {
			if strings.HasPrefix(strings.TrimSpace(l), "#") {
				continue
			}
			sp, err := r.parseSpan(l)
			if err != nil {
				return nil, false, fmt.Errorf("%q: %w", l, err)
			}
			spans = append(spans, sp)
		}
		if len(spans) == 0 {
			return nil, false, fmt.Errorf("load without spans")
		}
		r.h.write(ctx, spans)
		if r.flushAfterLoad {
			r.h.flush(ctx)
		}
		return nil, false, nil
	case "flush":
		r.h.flush(ctx)
		return nil, false, nil
	}
	if len(b.Input) > 0 {
		return nil, false, fmt.Errorf("%s takes no input lines", cmd)
	}
	var out []string
	switch cmd {
	case "find":
		out, err = r.find(args)
	case "trace":
		out, err = r.trace(args)
	case "services":
		out, err = r.services(args)
	case "operations":
		out, err = r.operations(args)
	case "attributes":
		out, err = r.attributes(args)
	case "values":
		out, err = r.values(args)
	case "dependencies":
		out, err = r.dependencies(args)
	default:
		return nil, false, fmt.Errorf("unknown command %q", cmd)
	}
	return out, true, err
}
