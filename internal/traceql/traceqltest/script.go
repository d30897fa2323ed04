package traceqltest

import (
	"fmt"
	"strings"
)

// block is one command of a script: the command line, its input lines and
// the expected output after "----".
type block struct {
	pre    []string // comment and blank lines before the command
	line   int      // 1-based line of the command
	cmd    string
	input  []string
	hasSep bool
	output []string
}

type script struct {
	name    string
	blocks  []*block
	trailer []string
}

const sep = "----"

// parseScript splits a script into blocks: a command line, input lines up
// to "----" or a blank line, and after "----" the expected output up to a
// blank line. Lines starting with # between blocks are comments.
func parseScript(name, text string) (*script, error) {
	sc := &script{name: name}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	var pre []string
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			pre = append(pre, l)
			continue
		}
		if l == sep {
			return nil, fmt.Errorf("%s:%d: %q without a command", name, i+1, sep)
		}
		b := &block{pre: pre, line: i + 1, cmd: l}
		pre = nil
		i++
		for ; i < len(lines) && strings.TrimSpace(lines[i]) != "" && lines[i] != sep; i++ {
			b.input = append(b.input, lines[i])
		}
		if i < len(lines) && lines[i] == sep {
			b.hasSep = true
			i++
			for ; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
				b.output = append(b.output, lines[i])
			}
		}
		sc.blocks = append(sc.blocks, b)
		i-- // the blank line ending the block belongs to the next one's pre
	}
	sc.trailer = pre
	return sc, nil
}

// render writes the script back with outs[i] as the output of block i
// when it is not nil.
func (sc *script) render(outs [][]string) string {
	var b strings.Builder
	for i, bl := range sc.blocks {
		for _, l := range bl.pre {
			b.WriteString(l + "\n")
		}
		b.WriteString(bl.cmd + "\n")
		for _, l := range bl.input {
			b.WriteString(l + "\n")
		}
		out := bl.output
		if outs[i] != nil {
			out = outs[i]
		}
		if bl.hasSep || outs[i] != nil {
			b.WriteString(sep + "\n")
			for _, l := range out {
				b.WriteString(l + "\n")
			}
		}
	}
	for _, l := range sc.trailer {
		b.WriteString(l + "\n")
	}
	return b.String()
}
