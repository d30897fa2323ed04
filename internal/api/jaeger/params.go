package jaeger

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/query"
	"github.com/clew-tracing/clew/internal/storage"
)

// parseTraceID accepts hex in any case and of any length up to 32 digits
// (short and 64-bit IDs are left-padded), and, as Jaeger does since 2.x,
// the base64 form of the 16 bytes.
func parseTraceID(s string) (model.TraceID, error) {
	id, err := model.ParseTraceID(s)
	if err == nil {
		if id.IsZero() {
			return id, query.BadRequestf("malformed trace ID %q: all zero", s)
		}
		return id, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, e := enc.DecodeString(s); e == nil && len(b) == len(id) {
			return model.TraceID(b), nil
		}
	}
	return id, query.BadRequestf("malformed trace ID %q: %w", s, model.ErrInvalidID)
}

// parseMicros parses a Unix time in microseconds into nanoseconds.
func parseMicros(q url.Values, name string) (uint64, bool, error) {
	return parseUnixScaled(q, name, 1_000)
}

// parseMillis parses a Unix time or span in milliseconds into nanoseconds.
func parseMillis(q url.Values, name string) (uint64, bool, error) {
	return parseUnixScaled(q, name, 1_000_000)
}

func parseUnixScaled(q url.Values, name string, scale uint64) (uint64, bool, error) {
	s := q.Get(name)
	if s == "" {
		return 0, false, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > math.MaxUint64/scale {
		return 0, false, query.BadRequestf("malformed parameter %s=%q: not a non-negative integer", name, s)
	}
	return v * scale, true, nil
}

// param returns the first non-empty value among a parameter's spellings
// (api_v3 renamed its snake_case parameters to camelCase and still accepts
// both) and the name it was found under.
func param(q url.Values, names ...string) (string, string) {
	for _, n := range names {
		if v := q.Get(n); v != "" {
			return v, n
		}
	}
	return "", names[0]
}

// parseDuration parses a Go duration ("1.2ms", "4500ns", "1s") given under
// any of names.
func parseDuration(q url.Values, names ...string) (time.Duration, bool, error) {
	s, name := param(q, names...)
	if s == "" {
		return 0, false, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, false, query.BadRequestf("malformed parameter %s: %w", name, err)
	}
	if d < 0 {
		return 0, false, query.BadRequestf("malformed parameter %s=%q: negative", name, s)
	}
	return d, true, nil
}

// parseLookback parses the UI's lookback ("1h", "2d", "1w"): a Go duration
// or a whole number of days or weeks.
func parseLookback(s string) (time.Duration, error) {
	unit := time.Duration(0)
	switch {
	case strings.HasSuffix(s, "d"):
		unit = 24 * time.Hour
	case strings.HasSuffix(s, "w"):
		unit = 7 * 24 * time.Hour
	}
	var d time.Duration
	if unit != 0 {
		n, err := strconv.ParseUint(s[:len(s)-1], 10, 16)
		if err != nil {
			return 0, query.BadRequestf("malformed parameter lookback=%q", s)
		}
		d = time.Duration(n) * unit
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, query.BadRequestf("malformed parameter lookback: %w", err)
		}
	}
	if d <= 0 {
		return 0, query.BadRequestf("malformed parameter lookback=%q: not positive", s)
	}
	return d, nil
}

// parseLimit parses a non-negative count; absent means def.
func parseLimit(q url.Values, name string, def int) (int, error) {
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

// parseSpanKind parses an optional span kind name ("server", "client", …).
func parseSpanKind(s string) (storage.OperationQuery, error) {
	if s == "" {
		return storage.OperationQuery{}, nil
	}
	k, ok := model.ParseSpanKind(strings.ToLower(s))
	if !ok {
		return storage.OperationQuery{}, query.BadRequestf("malformed parameter spanKind=%q", s)
	}
	return storage.OperationQuery{Kind: k, HasKind: true}, nil
}

// parseTagMap parses a JSON object of tag filters (v1 tags, v3
// query.attributes). Values should be strings; numbers and booleans are
// accepted and compared in their string form.
func parseTagMap(s, name string) (map[string]string, error) {
	var raw map[string]any
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, query.BadRequestf("malformed parameter %s: %w", name, err)
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		switch v := v.(type) {
		case string:
			out[k] = v
		case bool, float64:
			out[k] = fmt.Sprint(v)
		default:
			return nil, query.BadRequestf("malformed parameter %s: value of %q is not a string", name, k)
		}
	}
	return out, nil
}

// searchBuilder collects the Jaeger search conditions, all of which must
// hold on one span.
type searchBuilder struct {
	s query.Search
}

func (b *searchBuilder) equal(f storage.Field, v string) {
	if v != "" {
		b.s.Conditions = append(b.s.Conditions, storage.Condition{Field: f, Op: storage.OpEqual, Value: model.StringValue(v)})
	}
}

// tags adds one filter per tag, in key order so that equal requests build
// equal queries.
func (b *searchBuilder) tags(tags map[string]string) {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b.tag(k, tags[k])
	}
}

func (b *searchBuilder) tag(k, v string) {
	alts := query.TagFilter(k, v)
	if len(alts) == 1 {
		b.s.Conditions = append(b.s.Conditions, alts[0])
		return
	}
	b.s.AnyOf = append(b.s.AnyOf, alts)
}

// durations adds the duration range; either bound may be absent.
func (b *searchBuilder) durations(min time.Duration, hasMin bool, max time.Duration, hasMax bool) error {
	if hasMin && hasMax && max < min {
		return query.BadRequestf("maxDuration %s is less than minDuration %s", max, min)
	}
	if hasMin {
		b.s.Conditions = append(b.s.Conditions, storage.Condition{Field: storage.FieldDuration, Op: storage.OpGreaterEqual, Value: model.IntValue(int64(min))})
	}
	if hasMax {
		b.s.Conditions = append(b.s.Conditions, storage.Condition{Field: storage.FieldDuration, Op: storage.OpLessEqual, Value: model.IntValue(int64(max))})
	}
	return nil
}
