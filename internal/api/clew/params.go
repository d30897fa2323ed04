package clew

import (
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/query"
)

// maxLookback bounds a request's lookback: a baseline or a sample over
// more than a month of data is not what anyone means.
const maxLookback = 31 * 24 * time.Hour

// parseTraceID accepts 1 to 32 hex digits in any case.
func parseTraceID(s string) (model.TraceID, error) {
	id, err := model.ParseTraceID(s)
	if err != nil {
		return id, query.BadRequestf("malformed trace ID %q: %w", s, model.ErrInvalidID)
	}
	if id.IsZero() {
		return id, query.BadRequestf("malformed trace ID %q: all zero", s)
	}
	return id, nil
}

// parseDuration parses a Go duration ("24h", "90m") in (0, maxLookback],
// or returns def when the parameter is absent.
func parseDuration(q url.Values, name string, def time.Duration) (time.Duration, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d > maxLookback {
		return 0, query.BadRequestf("malformed parameter %s=%q: want a duration such as 1h, at most %s", name, s, maxLookback)
	}
	return d, nil
}

// parseBool parses true/false/1/0, or returns def when absent.
func parseBool(q url.Values, name string, def bool) (bool, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, query.BadRequestf("malformed parameter %s=%q: want true or false", name, s)
	}
	return b, nil
}

// parseTime parses an RFC 3339 time or Unix seconds (with an optional
// fraction), or returns def when absent.
func parseTime(q url.Values, name string, def time.Time) (time.Time, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > math.MaxInt64/1e9 || strings.ContainsAny(s, "eEnN") {
		return time.Time{}, query.BadRequestf("malformed parameter %s=%q: want RFC 3339 or Unix seconds", name, s)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

// window resolves start/end (or end and lookback) into a time range; the
// defaults are the last hour up to now.
func window(q url.Values, now time.Time) (time.Time, time.Time, error) {
	end, err := parseTime(q, "end", now)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	lookback, err := parseDuration(q, "lookback", time.Hour)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	start, err := parseTime(q, "start", end.Add(-lookback))
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	if !start.Before(end) {
		return time.Time{}, time.Time{}, query.BadRequestf("start %s is not before end %s", start.Format(time.RFC3339), end.Format(time.RFC3339))
	}
	if end.Sub(start) > maxLookback {
		return time.Time{}, time.Time{}, query.BadRequestf("window of %s is longer than %s", end.Sub(start), maxLookback)
	}
	return start, end, nil
}
