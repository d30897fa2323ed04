package traceql

import (
	"strings"
	"testing"
)

func TestLex(t *testing.T) {
	f := func(src string, want ...string) {
		t.Helper()
		toks, err := lex(src)
		if err != nil {
			t.Fatalf("lex(%q): %v", src, err)
		}
		var got []string
		for _, tok := range toks[:len(toks)-1] {
			s := tok.typ.String()
			switch tok.typ {
			case tokAttribute:
				s = tok.attr.String()
			case tokIdent, tokIntrinsic, tokString:
				s += ":" + tok.str
			case tokInt, tokFloat, tokDuration:
				s += ":" + tok.text
			}
			got = append(got, s)
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("lex(%q):\n got %q\nwant %q", src, got, want)
		}
	}
	f("{ }", "{", "}")
	f(`{.a="x"}`, "{", ".a", "=", `string:x`, "}")
	f("span.http.status_code>=500", "span.http.status_code", ">=", "integer:500")
	f("resource.service.name!=nil", "resource.service.name", "!=", "identifier:nil")
	f(`span."a b"`, `span."a b"`)
	f("parent.span.x parent.resource.y parent.z", "parent.span.x", "parent.resource.y", "parent.z")
	f("span:name trace:rootService event:name", "intrinsic:span:name", "intrinsic:trace:rootService", "intrinsic:event:name")
	f("1 1.5 .5 1e3 2.5e-3 1ms 1.5s 1h30m 100µs", "integer:1", "number:1.5", "number:.5", "number:1e3", "number:2.5e-3",
		"duration:1ms", "duration:1.5s", "duration:1h30m", "duration:100µs")
	f(".5xx", `."5xx"`)
	f("> >= >> < <= << ~ !~ !> !>> !< !<< &> &>> &< &<< &~ && || ! | = != =~",
		">", ">=", ">>", "<", "<=", "<<", "~", "!~", "!>", "!>>", "!<", "!<<", "&>", "&>>", "&<", "&<<", "&~", "&&", "||", "!", "|", "=", "!=", "=~")
	f("+-*/%^", "+", "-", "*", "/", "%", "^")
	f("span.a-b", "span.a-b")
	f("span.a - b", "span.a", "-", "identifier:b")
}
