// Package receiver holds what Clew's span receivers (otlp, zipkin) share
// on the HTTP side: reading a request body within a byte limit and an
// in-flight budget, undoing its Content-Encoding.
package receiver

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

// Body errors, which receivers map to status codes.
var (
	// ErrTooLarge: the body, compressed or not, is over the limit (413).
	ErrTooLarge = errors.New("request body too large")
	// ErrUnsupportedEncoding: a Content-Encoding other than gzip or
	// identity (415).
	ErrUnsupportedEncoding = errors.New("unsupported content encoding")
	// ErrBadBody: the body could not be read or decompressed (400).
	ErrBadBody = errors.New("unreadable request body")
)

// readChunk is how much ReadBody reads at a time; the in-flight
// reservation grows at least this much at once.
const readChunk = 32 << 10

// Acquirer reserves in-flight bytes; ingest.Ingester.Acquire is one.
type Acquirer func(n int64) (release func(), err error)

// ReadBody reads r's body, gunzipping it when Content-Encoding says so,
// and returns the decompressed bytes with the function that gives back
// their in-flight reservation; call release once the bytes and everything
// decoded from them are no longer needed. release is never nil.
//
// Bytes are reserved through acquire before they are read: the declared
// Content-Length up front when there is one, then more as the decompressed
// body grows, so an error from acquire (ingest.ErrOverloaded) can come
// back before or part way through reading. Both the bytes on the wire and
// the decompressed bytes are limited to limit, which stops gzip bombs.
func ReadBody(r *http.Request, limit int64, acquire Acquirer) (body []byte, release func(), err error) {
	gz, err := gzipped(r.Header.Get("Content-Encoding"))
	if err != nil {
		return nil, func() {}, err
	}
	if r.ContentLength > limit {
		return nil, func() {}, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, r.ContentLength, limit)
	}
	res := &reservation{acquire: acquire}
	release = res.release
	initial := int64(readChunk)
	if r.ContentLength > 0 {
		initial = r.ContentLength
	}
	if err := res.grow(initial); err != nil {
		return nil, release, err
	}

	var src io.Reader = &wireReader{r: io.LimitReader(r.Body, limit+1)}
	wire := src.(*wireReader)
	if gz {
		zr, err := gzip.NewReader(src)
		if err != nil {
			if wire.err != nil {
				return nil, release, fmt.Errorf("%w: %w", ErrBadBody, wire.err)
			}
			return nil, release, fmt.Errorf("%w: gzip: %w", ErrBadBody, err)
		}
		defer zr.Close()
		src = zr
	}

	buf := make([]byte, 0, min(initial, limit+1))
	tooLarge := func() error { return fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit) }
	fail := func(err error) error {
		if wire.n > limit {
			// The wire limit cut a gzip stream short.
			return tooLarge()
		}
		if wire.err != nil {
			err = wire.err
		}
		return fmt.Errorf("%w: %w", ErrBadBody, err)
	}
	for {
		if int64(len(buf)) > limit || wire.n > limit {
			return nil, release, tooLarge()
		}
		if len(buf) == cap(buf) {
			// Full: find out whether more is coming before reserving
			// more, so that a body of exactly Content-Length bytes
			// never reserves twice its size.
			var probe [1]byte
			if _, err := io.ReadFull(src, probe[:]); err == io.EOF {
				break
			} else if err != nil {
				return nil, release, fail(err)
			}
			to := min(max(int64(len(buf))+readChunk, 2*res.n), limit+1)
			if err := res.grow(to); err != nil {
				return nil, release, err
			}
			buf = slices.Grow(buf, int(max(to-int64(len(buf)), 1)))
			buf = append(buf, probe[0])
			continue
		}
		n, err := src.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, release, fail(err)
		}
	}
	if int64(len(buf)) > limit || wire.n > limit {
		return nil, release, tooLarge()
	}
	return buf, release, nil
}

// gzipped interprets Content-Encoding. Only one coding is accepted: the
// exporters Clew serves never stack them.
func gzipped(enc string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "", "identity":
		return false, nil
	case "gzip", "x-gzip":
		return true, nil
	}
	return false, fmt.Errorf("%w %q: want gzip or identity", ErrUnsupportedEncoding, enc)
}

// wireReader counts the bytes read from the network and remembers the
// network's own error, so that a dropped connection is not reported as a
// corrupt gzip stream.
type wireReader struct {
	r   io.Reader
	n   int64
	err error
}

func (w *wireReader) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	w.n += int64(n)
	if err != nil && err != io.EOF {
		w.err = err
	}
	return n, err
}

// reservation is a growing in-flight reservation made of several
// Acquire calls.
type reservation struct {
	acquire  Acquirer
	n        int64
	releases []func()
}

// grow raises the reservation to to bytes.
func (r *reservation) grow(to int64) error {
	if to <= r.n {
		return nil
	}
	rel, err := r.acquire(to - r.n)
	if err != nil {
		return err
	}
	r.releases = append(r.releases, rel)
	r.n = to
	return nil
}

func (r *reservation) release() {
	for _, rel := range r.releases {
		rel()
	}
	r.releases = nil
}
