package tempo

import (
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/query"
)

// parseTraceID accepts 1 to 32 hex digits (Tempo trims leading zeros).
func parseTraceID(s string) (model.TraceID, error) {
	id, err := model.ParseTraceID(s)
	if err != nil {
		return id, query.BadRequestf("malformed trace ID %q", s)
	}
	if id.IsZero() {
		return id, query.BadRequestf("malformed trace ID %q: all zero", s)
	}
	return id, nil
}

// parseUnixSeconds parses an optional whole number of Unix seconds into
// nanoseconds.
func parseUnixSeconds(q url.Values, name string) (uint64, bool, error) {
	s := q.Get(name)
	if s == "" {
		return 0, false, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > math.MaxUint64/1_000_000_000 {
		return 0, false, query.BadRequestf("malformed parameter %s=%q: not Unix seconds", name, s)
	}
	return v * 1e9, true, nil
}

// parseTime parses a time as the metrics endpoints take it: RFC 3339, or
// a Unix time in seconds, milliseconds, microseconds or nanoseconds
// (told apart by magnitude), possibly with a fraction.
func parseTime(q url.Values, name string) (uint64, bool, error) {
	s := q.Get(name)
	if s == "" {
		return 0, false, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		if t.UnixNano() < 0 {
			return 0, false, query.BadRequestf("malformed parameter %s=%q: before 1970", name, s)
		}
		return uint64(t.UnixNano()), true, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false, query.BadRequestf("malformed parameter %s=%q: want Unix time or RFC 3339", name, s)
	}
	var ns float64
	switch {
	case f < 1e11:
		ns = f * 1e9
	case f < 1e14:
		ns = f * 1e6
	case f < 1e17:
		ns = f * 1e3
	default:
		ns = f
	}
	if ns >= math.MaxInt64 {
		return 0, false, query.BadRequestf("malformed parameter %s=%q: out of range", name, s)
	}
	return uint64(ns), true, nil
}

// parseStep parses a step: a Go duration (30s, 1m) or a number of seconds.
func parseStep(q url.Values) (time.Duration, bool, error) {
	s := q.Get("step")
	if s == "" {
		return 0, false, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f > float64(math.MaxInt64)/1e9 {
			return 0, false, query.BadRequestf("malformed parameter step=%q: want a duration or seconds", s)
		}
		d = time.Duration(f * 1e9)
	}
	if d <= 0 {
		return 0, false, query.BadRequestf("malformed parameter step=%q: not positive", s)
	}
	return d, true, nil
}

// parseCount parses a non-negative count; absent or 0 means def.
func parseCount(q url.Values, name string, def int) (int, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, query.BadRequestf("malformed parameter %s=%q: not a non-negative integer", name, s)
	}
	if n == 0 {
		return def, nil
	}
	return n, nil
}

// parseLogfmt parses Tempo's tags= parameter: space-separated key=value
// pairs, values optionally double-quoted.
func parseLogfmt(s string) (map[string]string, error) {
	out := map[string]string{}
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		k, rest, ok := strings.Cut(s, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, query.BadRequestf("malformed parameter tags: want key=value pairs")
		}
		var v string
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return nil, query.BadRequestf("malformed parameter tags: %v", err)
			}
			v, _ = strconv.Unquote(q)
			rest = rest[len(q):]
		} else {
			v, rest, _ = strings.Cut(rest, " ")
		}
		out[k] = v
		s = rest
	}
	return out, nil
}
