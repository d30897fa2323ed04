package receiver

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// budget is a fake in-flight budget that records what is held.
type budget struct {
	max, held, peak int64
	calls           int
}

var errBudget = errors.New("over budget")

func (b *budget) acquire(n int64) (func(), error) {
	b.calls++
	if b.held+n > b.max {
		return func() {}, errBudget
	}
	b.held += n
	b.peak = max(b.peak, b.held)
	done := false
	return func() {
		if !done {
			done = true
			b.held -= n
		}
	}, nil
}

func gz(t testing.TB, p []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(p); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// chunked hides the length of r so that the request has no Content-Length.
type chunked struct{ r io.Reader }

func (c chunked) Read(p []byte) (int, error) { return c.r.Read(p) }

func TestReadBody(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 20000) // 320000 bytes
	f := func(name string, body io.Reader, encoding string, limit, budgetMax int64, want []byte, wantErr error) {
		t.Helper()
		r := httptest.NewRequest(http.MethodPost, "/", body)
		if encoding != "" {
			r.Header.Set("Content-Encoding", encoding)
		}
		b := &budget{max: budgetMax}
		got, release, err := ReadBody(r, limit, b.acquire)
		if !errors.Is(err, wantErr) {
			t.Fatalf("%s: err = %v, want %v", name, err, wantErr)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("%s: body of %d bytes, want %d", name, len(got), len(want))
		}
		if err == nil && b.peak > 2*int64(len(want))+readChunk {
			t.Fatalf("%s: reserved %d bytes for a %d byte body", name, b.peak, len(want))
		}
		release()
		release()
		if b.held != 0 {
			t.Fatalf("%s: %d bytes still held after release", name, b.held)
		}
	}
	const lots = 1 << 30
	f("empty", bytes.NewReader(nil), "", 100, lots, []byte{}, nil)
	f("small", strings.NewReader("hello"), "identity", 100, lots, []byte("hello"), nil)
	f("exact limit", strings.NewReader("hello"), "", 5, lots, []byte("hello"), nil)
	f("big with length", bytes.NewReader(big), "", 1<<20, lots, big, nil)
	f("big chunked", chunked{bytes.NewReader(big)}, "", 1<<20, lots, big, nil)
	f("gzip", bytes.NewReader(gz(t, big)), "gzip", 1<<20, lots, big, nil)
	f("GZIP chunked", chunked{bytes.NewReader(gz(t, big))}, "GZIP", 1<<20, lots, big, nil)
	f("over limit with length", bytes.NewReader(big), "", 1000, lots, nil, ErrTooLarge)
	f("over limit chunked", chunked{bytes.NewReader(big)}, "", 1000, lots, nil, ErrTooLarge)
	f("gzip bomb", bytes.NewReader(gz(t, make([]byte, 10<<20))), "gzip", 1<<20, lots, nil, ErrTooLarge)
	f("compressed over limit", bytes.NewReader(gz(t, big)), "gzip", 100, lots, nil, ErrTooLarge)
	f("not gzip", strings.NewReader("plain text"), "gzip", 100, lots, nil, ErrBadBody)
	f("truncated gzip", bytes.NewReader(gz(t, big)[:1000]), "gzip", 1<<20, lots, nil, ErrBadBody)
	f("brotli", strings.NewReader("x"), "br", 100, lots, nil, ErrUnsupportedEncoding)
	f("stacked", strings.NewReader("x"), "gzip, gzip", 100, lots, nil, ErrUnsupportedEncoding)
	f("over budget up front", bytes.NewReader(big), "", 1<<20, 1000, nil, errBudget)
	f("over budget while growing", chunked{bytes.NewReader(big)}, "", 1<<20, 100000, nil, errBudget)
}

// failingBody fails after its data, as a dropped connection does.
type failingBody struct{ data io.Reader }

var errNet = errors.New("connection reset")

func (f failingBody) Read(p []byte) (int, error) {
	n, err := f.data.Read(p)
	if err == io.EOF {
		return n, errNet
	}
	return n, err
}

func TestReadBodyNetworkError(t *testing.T) {
	for _, enc := range []string{"", "gzip"} {
		data := []byte("some data")
		if enc == "gzip" {
			data = gz(t, data)[:5]
		}
		r := httptest.NewRequest(http.MethodPost, "/", failingBody{bytes.NewReader(data)})
		r.Header.Set("Content-Encoding", enc)
		b := &budget{max: 1 << 20}
		_, release, err := ReadBody(r, 1<<20, b.acquire)
		release()
		if !errors.Is(err, ErrBadBody) || !errors.Is(err, errNet) {
			t.Fatalf("%q: err = %v, want the network error", enc, err)
		}
	}
}
