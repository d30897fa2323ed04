package traceql

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrorKind tells a syntax error from a query that parses but means nothing.
type ErrorKind uint8

// Error kinds.
const (
	// SyntaxError: the text is not TraceQL.
	SyntaxError ErrorKind = iota + 1
	// ValidationError: the query parses but cannot be evaluated, e.g.
	// { name = 1 } compares a string with a number.
	ValidationError
	// UnsupportedError: valid TraceQL that Clew does not evaluate.
	UnsupportedError
)

// String names the kind of error.
func (k ErrorKind) String() string {
	switch k {
	case SyntaxError:
		return "syntax error"
	case ValidationError:
		return "validation error"
	case UnsupportedError:
		return "unsupported"
	}
	return "error"
}

// Error is a parse or validation error at a position of the query.
type Error struct {
	Kind ErrorKind
	// Range is the offending part of the query.
	Range PositionRange
	// Line and Column are 1-based; Column counts runes.
	Line, Column int
	// Msg says what is wrong, e.g. `unexpected "}"`.
	Msg string
	// Expected lists what the parser would have accepted, if known.
	Expected []string
}

// Error renders "syntax error at 1:8: unexpected "}"; expected a value".
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s at %d:%d: %s", e.Kind, e.Line, e.Column, e.Msg)
	if len(e.Expected) > 0 {
		b.WriteString("; expected ")
		b.WriteString(orList(e.Expected))
	}
	return b.String()
}

func orList(items []string) string {
	switch len(items) {
	case 1:
		return items[0]
	case 2:
		return items[0] + " or " + items[1]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// AsError returns err as an *Error, if it is one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// newError builds an Error, computing the line and column from the query.
func newError(kind ErrorKind, query string, r PositionRange, msg string, expected ...string) *Error {
	line, col := lineCol(query, r.Start)
	return &Error{Kind: kind, Range: r, Line: line, Column: col, Msg: msg, Expected: expected}
}

// lineCol turns a byte offset into a 1-based line and rune column.
func lineCol(query string, p Pos) (int, int) {
	if int(p) > len(query) {
		p = Pos(len(query))
	}
	before := query[:p]
	line := 1 + strings.Count(before, "\n")
	if i := strings.LastIndexByte(before, '\n'); i >= 0 {
		before = before[i+1:]
	}
	return line, 1 + utf8.RuneCountInString(before)
}
