package otlp

import (
	"net/http"
	"strings"
)

// corsMaxAge is how long browsers may cache a preflight answer (seconds).
const corsMaxAge = "7200"

// corsAllowHeaders are always allowed: the request headers that OTLP/HTTP
// exporters running in browsers send.
var corsAllowHeaders = []string{"Content-Type", "Content-Encoding"}

// allowedOrigin returns the value of Access-Control-Allow-Origin for
// origin, or false when origin may not send spans.
func (r *Receiver) allowedOrigin(origin string) (string, bool) {
	if origin == "" {
		return "", false
	}
	for _, o := range r.opts.AllowedOrigins {
		if o == "*" {
			return "*", true
		}
		if o == origin {
			return origin, true
		}
	}
	return "", false
}

// withCORS adds the CORS headers of an actual (non-preflight) request.
// A disallowed origin still gets its answer, without the headers, so the
// browser withholds it from the page: the server cannot stop the request
// from having been sent.
func (r *Receiver) withCORS(next http.Handler) http.Handler {
	if len(r.opts.AllowedOrigins) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Add("Vary", "Origin")
		if allow, ok := r.allowedOrigin(req.Header.Get("Origin")); ok {
			w.Header().Set("Access-Control-Allow-Origin", allow)
			// Let pages see when to retry.
			w.Header().Set("Access-Control-Expose-Headers", "Retry-After")
		}
		next.ServeHTTP(w, req)
	})
}

// servePreflight answers a CORS preflight OPTIONS request.
func (r *Receiver) servePreflight(w http.ResponseWriter, req *http.Request) {
	h := w.Header()
	h.Add("Vary", "Origin")
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	origin := req.Header.Get("Origin")
	allow, ok := r.allowedOrigin(origin)
	if !ok {
		http.Error(w, "CORS: origin "+quoteOrNone(origin)+" is not allowed", http.StatusForbidden)
		return
	}
	if m := req.Header.Get("Access-Control-Request-Method"); m != "" && m != http.MethodPost {
		http.Error(w, "CORS: method "+m+" is not allowed; use POST", http.StatusForbidden)
		return
	}
	h.Set("Access-Control-Allow-Origin", allow)
	h.Set("Access-Control-Allow-Methods", http.MethodPost)
	h.Set("Access-Control-Allow-Headers", strings.Join(allowHeaders(req.Header.Values("Access-Control-Request-Headers")), ", "))
	h.Set("Access-Control-Max-Age", corsMaxAge)
	w.WriteHeader(http.StatusNoContent)
}

// allowHeaders returns corsAllowHeaders plus the headers a preflight asks
// for (exporters add their own, such as authorization), dropping anything
// that is not a valid header name.
func allowHeaders(requested []string) []string {
	out := append([]string(nil), corsAllowHeaders...)
	seen := map[string]bool{}
	for _, h := range out {
		seen[strings.ToLower(h)] = true
	}
	for _, line := range requested {
		for name := range strings.SplitSeq(line, ",") {
			name = strings.TrimSpace(name)
			if name == "" || !isToken(name) || seen[strings.ToLower(name)] {
				continue
			}
			seen[strings.ToLower(name)] = true
			out = append(out, name)
		}
	}
	return out
}

// isToken reports whether s is an RFC 9110 token, the syntax of header names.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return s != ""
}

func quoteOrNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return `"` + s + `"`
}
