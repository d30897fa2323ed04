package traceql

import "fmt"

// tokenType classifies a lexed token.
type tokenType uint8

const (
	tokEOF tokenType = iota
	tokIdent
	tokIntrinsic // a scoped intrinsic: span:name, trace:id, event:name, ...
	tokAttribute // .x, span.x, resource."x y", parent.span.x
	tokString
	tokInt
	tokFloat
	tokDuration

	tokLBrace // {
	tokRBrace // }
	tokLParen // (
	tokRParen // )
	tokComma  // ,
	tokPipe   // |

	tokEq  // =
	tokNeq // !=
	tokRe  // =~
	tokNre // !~ (also the negated sibling operator between spansets)
	tokGt  // >
	tokGte // >=
	tokLt  // <
	tokLte // <=

	tokAnd // &&
	tokOr  // ||
	tokNot // !

	tokAdd // +
	tokSub // -
	tokMul // *
	tokDiv // /
	tokMod // %
	tokPow // ^

	tokDesc     // >>
	tokAnce     // <<
	tokSibl     // ~
	tokNotChild // !>
	tokNotPar   // !<
	tokNotDesc  // !>>
	tokNotAnce  // !<<
	tokUChild   // &>
	tokUPar     // &<
	tokUDesc    // &>>
	tokUAnce    // &<<
	tokUSibl    // &~
)

var tokenNames = [...]string{
	tokEOF: "end of query", tokIdent: "identifier", tokIntrinsic: "intrinsic", tokAttribute: "attribute",
	tokString: "string", tokInt: "integer", tokFloat: "number", tokDuration: "duration",
	tokLBrace: "{", tokRBrace: "}", tokLParen: "(", tokRParen: ")", tokComma: ",", tokPipe: "|",
	tokEq: "=", tokNeq: "!=", tokRe: "=~", tokNre: "!~", tokGt: ">", tokGte: ">=", tokLt: "<", tokLte: "<=",
	tokAnd: "&&", tokOr: "||", tokNot: "!",
	tokAdd: "+", tokSub: "-", tokMul: "*", tokDiv: "/", tokMod: "%", tokPow: "^",
	tokDesc: ">>", tokAnce: "<<", tokSibl: "~", tokNotChild: "!>", tokNotPar: "!<", tokNotDesc: "!>>", tokNotAnce: "!<<",
	tokUChild: "&>", tokUPar: "&<", tokUDesc: "&>>", tokUAnce: "&<<", tokUSibl: "&~",
}

func (t tokenType) String() string {
	if int(t) < len(tokenNames) {
		return tokenNames[t]
	}
	return fmt.Sprintf("token(%d)", t)
}

// token is one lexeme. Text is the source text; the value fields hold the
// decoded literal or attribute.
type token struct {
	typ  tokenType
	pos  Pos // byte offset of the first byte
	end  Pos // byte offset just past the last byte
	text string

	str  string // tokString: the unquoted value; tokIdent/tokIntrinsic: the name
	i    int64  // tokInt
	f    float64
	dur  int64     // tokDuration, in nanoseconds
	attr Attribute // tokAttribute (without position)
}

// describe renders the token for an error message.
func (t token) describe() string {
	switch t.typ {
	case tokEOF:
		return "end of query"
	case tokIdent, tokIntrinsic, tokAttribute, tokString, tokInt, tokFloat, tokDuration:
		return fmt.Sprintf("%s %s", t.typ, t.text)
	}
	return fmt.Sprintf("%q", t.text)
}
