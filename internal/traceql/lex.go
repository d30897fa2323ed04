package traceql

import (
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// lexer splits a query into tokens. It works on the whole query at once:
// queries are short and the parser needs unbounded look-ahead in one
// place (telling "(count() > 1)" from "({ a } | count() > 1)").
type lexer struct {
	src  string
	pos  int
	toks []token
}

// lex returns the tokens of src, ending with tokEOF, or a syntax error.
func lex(src string) ([]token, error) {
	l := &lexer{src: src}
	for {
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		l.toks = append(l.toks, t)
		if t.typ == tokEOF {
			return l.toks, nil
		}
	}
}

func (l *lexer) errorf(start, end int, msg string, expected ...string) error {
	return newError(SyntaxError, l.src, PositionRange{Pos(start), Pos(end)}, msg, expected...)
}

func (l *lexer) peekByte(off int) byte {
	if l.pos+off < len(l.src) {
		return l.src[l.pos+off]
	}
	return 0
}

// next lexes one token at l.pos.
func (l *lexer) next() (token, error) {
	for l.pos < len(l.src) {
		r, n := utf8.DecodeRuneInString(l.src[l.pos:])
		if !unicode.IsSpace(r) {
			break
		}
		l.pos += n
	}
	start := l.pos
	if l.pos >= len(l.src) {
		return token{typ: tokEOF, pos: Pos(start), end: Pos(start)}, nil
	}
	c := l.src[l.pos]
	op := func(typ tokenType, n int) (token, error) {
		l.pos += n
		return token{typ: typ, pos: Pos(start), end: Pos(l.pos), text: l.src[start:l.pos]}, nil
	}
	c1, c2 := l.peekByte(1), l.peekByte(2)
	switch c {
	case '{':
		return op(tokLBrace, 1)
	case '}':
		return op(tokRBrace, 1)
	case '(':
		return op(tokLParen, 1)
	case ')':
		return op(tokRParen, 1)
	case ',':
		return op(tokComma, 1)
	case '|':
		if c1 == '|' {
			return op(tokOr, 2)
		}
		return op(tokPipe, 1)
	case '=':
		if c1 == '~' {
			return op(tokRe, 2)
		}
		return op(tokEq, 1)
	case '!':
		switch {
		case c1 == '=':
			return op(tokNeq, 2)
		case c1 == '~':
			return op(tokNre, 2)
		case c1 == '>' && c2 == '>':
			return op(tokNotDesc, 3)
		case c1 == '>':
			return op(tokNotChild, 2)
		case c1 == '<' && c2 == '<':
			return op(tokNotAnce, 3)
		case c1 == '<':
			return op(tokNotPar, 2)
		}
		return op(tokNot, 1)
	case '>':
		switch c1 {
		case '>':
			return op(tokDesc, 2)
		case '=':
			return op(tokGte, 2)
		}
		return op(tokGt, 1)
	case '<':
		switch c1 {
		case '<':
			return op(tokAnce, 2)
		case '=':
			return op(tokLte, 2)
		}
		return op(tokLt, 1)
	case '&':
		switch {
		case c1 == '&':
			return op(tokAnd, 2)
		case c1 == '>' && c2 == '>':
			return op(tokUDesc, 3)
		case c1 == '>':
			return op(tokUChild, 2)
		case c1 == '<' && c2 == '<':
			return op(tokUAnce, 3)
		case c1 == '<':
			return op(tokUPar, 2)
		case c1 == '~':
			return op(tokUSibl, 2)
		}
		return token{}, l.errorf(start, start+1, `unexpected "&"`, `"&&"`, `"&>"`, `"&>>"`, `"&<"`, `"&<<"`, `"&~"`)
	case '~':
		return op(tokSibl, 1)
	case '+':
		return op(tokAdd, 1)
	case '-':
		return op(tokSub, 1)
	case '*':
		return op(tokMul, 1)
	case '/':
		return op(tokDiv, 1)
	case '%':
		return op(tokMod, 1)
	case '^':
		return op(tokPow, 1)
	case '"', '`':
		s, n, err := unquotePrefix(l.src[l.pos:])
		if err != nil {
			return token{}, l.errorf(start, len(l.src), "unterminated or malformed string")
		}
		l.pos += n
		return token{typ: tokString, pos: Pos(start), end: Pos(l.pos), text: l.src[start:l.pos], str: s}, nil
	case '.':
		if isDigit(c1) {
			if t, ok, err := l.number(); ok || err != nil {
				return t, err
			}
		}
		l.pos++
		return l.attribute(start, ScopeNone, false)
	}
	if isDigit(c) {
		t, _, err := l.number()
		return t, err
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.pos:])
	if isIdentStart(r) {
		return l.identifier()
	}
	return token{}, l.errorf(start, start+utf8.RuneLen(r), "unexpected character "+strconv.QuoteRune(r))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }

func isIdentRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// isNameTerminator reports whether r ends an unquoted attribute name.
func isNameTerminator(r rune) bool {
	if unicode.IsSpace(r) {
		return true
	}
	return strings.ContainsRune("{}()=!<>&|^,~+*/%\"`", r)
}

// scopes maps attribute scope prefixes to scopes.
var scopes = map[string]AttributeScope{
	"span": ScopeSpan, "resource": ScopeResource, "event": ScopeEvent, "link": ScopeLink, "instrumentation": ScopeInstrumentation,
}

// intrinsicScopes are the prefixes of scoped intrinsics (span:name).
var intrinsicScopes = map[string]bool{"span": true, "trace": true, "event": true, "link": true, "instrumentation": true}

// identifier lexes a keyword, function name or intrinsic; a scope name
// followed by "." or ":" starts an attribute or a scoped intrinsic.
func (l *lexer) identifier() (token, error) {
	start := l.pos
	for l.pos < len(l.src) {
		r, n := utf8.DecodeRuneInString(l.src[l.pos:])
		if !isIdentRune(r) {
			break
		}
		l.pos += n
	}
	word := l.src[start:l.pos]
	next := l.peekByte(0)
	switch {
	case next == '.' && word == "parent":
		l.pos++
		scope := ScopeNone
		for name, s := range map[string]AttributeScope{"span.": ScopeSpan, "resource.": ScopeResource} {
			if strings.HasPrefix(l.src[l.pos:], name) {
				scope = s
				l.pos += len(name)
				break
			}
		}
		return l.attribute(start, scope, true)
	case next == '.' && scopes[word] != ScopeNone:
		l.pos++
		return l.attribute(start, scopes[word], false)
	case next == ':' && intrinsicScopes[word]:
		l.pos++
		nameStart := l.pos
		for l.pos < len(l.src) {
			r, n := utf8.DecodeRuneInString(l.src[l.pos:])
			if !isIdentRune(r) {
				break
			}
			l.pos += n
		}
		if l.pos == nameStart {
			return token{}, l.errorf(start, l.pos, "missing intrinsic name after "+strconv.Quote(word+":"))
		}
		text := l.src[start:l.pos]
		return token{typ: tokIntrinsic, pos: Pos(start), end: Pos(l.pos), text: text, str: text}, nil
	}
	return token{typ: tokIdent, pos: Pos(start), end: Pos(l.pos), text: word, str: word}, nil
}

// attribute lexes an attribute name after its scope prefix ("span.",
// ".", "parent.resource."): either a quoted string or a run of runes up
// to an operator, a bracket or white space.
func (l *lexer) attribute(start int, scope AttributeScope, parent bool) (token, error) {
	nameStart := l.pos
	var name string
	if c := l.peekByte(0); c == '"' || c == '`' {
		s, n, err := unquotePrefix(l.src[l.pos:])
		if err != nil {
			return token{}, l.errorf(start, len(l.src), "unterminated or malformed quoted attribute name")
		}
		l.pos += n
		name = s
	} else {
		for l.pos < len(l.src) {
			r, n := utf8.DecodeRuneInString(l.src[l.pos:])
			if isNameTerminator(r) {
				break
			}
			l.pos += n
		}
		name = l.src[nameStart:l.pos]
	}
	if name == "" {
		return token{}, l.errorf(start, l.pos, "missing attribute name after "+strconv.Quote(l.src[start:nameStart]))
	}
	return token{
		typ: tokAttribute, pos: Pos(start), end: Pos(l.pos), text: l.src[start:l.pos],
		attr: Attribute{Scope: scope, Parent: parent, Name: name},
	}, nil
}

// number lexes an integer, a float or a duration. ok is false (and
// nothing consumed) when the text at a leading "." is not a number but an
// attribute such as .5xx.
func (l *lexer) number() (t token, ok bool, err error) {
	start := l.pos
	i := l.pos
	digits := func() {
		for i < len(l.src) && isDigit(l.src[i]) {
			i++
		}
	}
	digits()
	isFloat := false
	if i < len(l.src) && l.src[i] == '.' && i+1 < len(l.src) && isDigit(l.src[i+1]) {
		isFloat = true
		i++
		digits()
	}
	if i < len(l.src) && (l.src[i] == 'e' || l.src[i] == 'E') {
		j := i + 1
		if j < len(l.src) && (l.src[j] == '+' || l.src[j] == '-') {
			j++
		}
		if j < len(l.src) && isDigit(l.src[j]) {
			isFloat = true
			i = j
			digits()
		}
	}
	// A letter right after the number makes it a duration (1ms, 1h30m,
	// 1.5s) unless the number started with "." (an attribute like .5xx).
	if i < len(l.src) {
		r, _ := utf8.DecodeRuneInString(l.src[i:])
		if isIdentRune(r) || r == 'µ' {
			if l.src[start] == '.' {
				return token{}, false, nil
			}
			j := i
			for j < len(l.src) {
				r, n := utf8.DecodeRuneInString(l.src[j:])
				if !isIdentRune(r) && r != 'µ' && r != '.' {
					break
				}
				j += n
			}
			text := l.src[start:j]
			d, err := time.ParseDuration(text)
			if err != nil {
				return token{}, true, l.errorf(start, j, "malformed duration "+strconv.Quote(text), "a duration such as 1ms, 1.5s or 1h30m")
			}
			l.pos = j
			return token{typ: tokDuration, pos: Pos(start), end: Pos(j), text: text, dur: int64(d)}, true, nil
		}
	}
	text := l.src[start:i]
	l.pos = i
	t = token{pos: Pos(start), end: Pos(i), text: text}
	if !isFloat {
		n, err := strconv.ParseInt(text, 10, 64)
		if err == nil {
			t.typ, t.i = tokInt, n
			return t, true, nil
		}
		if !errors.Is(err, strconv.ErrRange) {
			return token{}, true, l.errorf(start, i, "malformed number "+strconv.Quote(text))
		}
		return token{}, true, l.errorf(start, i, "integer "+text+" out of range")
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return token{}, true, l.errorf(start, i, "number "+text+" out of range")
	}
	t.typ, t.f = tokFloat, f
	return t, true, nil
}

// unquotePrefix decodes the Go-syntax string literal ("..." with escapes,
// or `...`) at the start of s and returns it with the bytes it took.
func unquotePrefix(s string) (string, int, error) {
	q := s[0]
	i := 1
	for i < len(s) {
		switch s[i] {
		case '\\':
			if q == '"' {
				i += 2
				continue
			}
		case '\n':
			if q == '"' {
				return "", 0, errors.New("newline in string")
			}
		case q:
			v, err := strconv.Unquote(s[:i+1])
			return v, i + 1, err
		}
		i++
	}
	return "", 0, errors.New("unterminated string")
}
