package storagetest

import (
	"fmt"
	"strings"
)

// ScriptBlock is one command of a script with its input and expected
// output.
type ScriptBlock struct {
	Pre    []string // comment and blank lines before the command
	Line   int      // 1-based line number of the command
	Cmd    string
	Input  []string
	HasSep bool // the block has a "----" line
	Output []string
}

// Script is a parsed script file: the conformance scripts' and
// traceqltest's format (testdata/README.md), read and rewritten (for
// -update) without changing anything but the outputs.
type Script struct {
	Name    string
	Blocks  []*ScriptBlock
	Trailer []string // comment and blank lines after the last block
}

// ScriptSep separates a command's input from its expected output.
const ScriptSep = "----"

// ParseScript splits a script into blocks: a command line, input lines up
// to a "----" line or a blank line, and after "----" the expected output
// up to a blank line. Lines starting with # between blocks are comments.
func ParseScript(name, text string) (*Script, error) {
	sc := &Script{Name: name}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	var pre []string
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			pre = append(pre, l)
			continue
		}
		if l == ScriptSep {
			return nil, fmt.Errorf("%s:%d: %q without a command", name, i+1, ScriptSep)
		}
		b := &ScriptBlock{Pre: pre, Line: i + 1, Cmd: l}
		pre = nil
		i++
		for ; i < len(lines) && strings.TrimSpace(lines[i]) != "" && lines[i] != ScriptSep; i++ {
			b.Input = append(b.Input, lines[i])
		}
		if i < len(lines) && lines[i] == ScriptSep {
			b.HasSep = true
			i++
			for ; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
				b.Output = append(b.Output, lines[i])
			}
		}
		// lines[i] is the blank line that ends the block, or past the end.
		sc.Blocks = append(sc.Blocks, b)
	}
	sc.Trailer = pre
	return sc, nil
}

// Render writes the script back, with outputs replaced by outs where
// outs[i] is not nil.
func (sc *Script) Render(outs [][]string) string {
	var b strings.Builder
	for i, bl := range sc.Blocks {
		for _, l := range bl.Pre {
			b.WriteString(l + "\n")
		}
		b.WriteString(bl.Cmd + "\n")
		for _, l := range bl.Input {
			b.WriteString(l + "\n")
		}
		out, sep := bl.Output, bl.HasSep
		if i < len(outs) && outs[i] != nil {
			out, sep = outs[i], true
		}
		if sep {
			b.WriteString(ScriptSep + "\n")
			for _, l := range out {
				b.WriteString(l + "\n")
			}
		}
		if i < len(sc.Blocks)-1 || len(sc.Trailer) > 0 {
			b.WriteString("\n")
		}
	}
	for _, l := range sc.Trailer {
		b.WriteString(l + "\n")
	}
	return b.String()
}
