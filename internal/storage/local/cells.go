package local

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The statistics files (stats, edges) share one layout: a magic, a version
// byte, a cell count, then cells made of length-prefixed strings, uvarints
// and a sketch, ending exactly at the end of the file. cellWriter and
// cellReader are that layout's two halves.

// cellWriter appends the fields of a statistics file.
type cellWriter struct {
	b  []byte
	sk []byte // scratch for sketches
}

func newCellWriter(magic string, version byte, cells int) *cellWriter {
	w := &cellWriter{b: append([]byte(magic), version)}
	w.uvarint(uint64(cells))
	return w
}

func (w *cellWriter) uvarint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }

func (w *cellWriter) string(s string) {
	w.uvarint(uint64(len(s)))
	w.b = append(w.b, s...)
}

// cell appends the counters every cell ends with: minute (in minutes since
// the epoch), calls, errors and the latency sketch.
func (w *cellWriter) cell(minute uint64, c *statsCell) {
	w.uvarint(minute / statsResolution)
	w.uvarint(c.calls)
	w.uvarint(c.errors)
	w.sk = c.latency.AppendBinary(w.sk[:0])
	w.uvarint(uint64(len(w.sk)))
	w.b = append(w.b, w.sk...)
}

// cellReader reads a statistics file, which is untrusted: every read
// checks bounds, and the first failure sticks.
type cellReader struct {
	b   []byte
	bad bool
	err error // the file's malformed-error, wrapped by every failure
}

// openCells checks the magic and version and returns a reader positioned
// at the first cell, with the number of cells.
func openCells(b []byte, magic string, version byte, malformed error) (*cellReader, uint64, error) {
	if len(b) < len(magic)+1 || string(b[:len(magic)]) != magic {
		return nil, 0, malformed
	}
	if b[len(magic)] != version {
		return nil, 0, fmt.Errorf("%w: version %d", malformed, b[len(magic)])
	}
	r := &cellReader{b: b[len(magic)+1:], err: malformed}
	n := r.uvarint()
	if r.bad || n > uint64(len(r.b)) {
		return nil, 0, malformed
	}
	return r, n, nil
}

func (r *cellReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *cellReader) bytes() []byte {
	n := r.uvarint()
	if r.bad || n > uint64(len(r.b)) {
		r.bad = true
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *cellReader) string() string { return string(r.bytes()) }

func (r *cellReader) byte() byte {
	if r.bad || len(r.b) == 0 {
		r.bad = true
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

// cell reads what cellWriter.cell wrote: the minute (in Unix nanoseconds)
// and the counters.
func (r *cellReader) cell() (uint64, *statsCell, error) {
	minute := r.uvarint() * statsResolution
	c := &statsCell{calls: r.uvarint(), errors: r.uvarint()}
	sk := r.bytes()
	if r.bad {
		return 0, nil, r.err
	}
	if err := c.latency.UnmarshalBinary(sk); err != nil {
		return 0, nil, fmt.Errorf("%w: %v", r.err, err)
	}
	return minute, c, nil
}

// end checks that the file was consumed exactly.
func (r *cellReader) end() error {
	switch {
	case r.bad:
		return r.err
	case len(r.b) != 0:
		return fmt.Errorf("%w: trailing bytes", r.err)
	}
	return nil
}

var (
	errStatsMalformed = errors.New("malformed statistics file")
	errEdgesMalformed = errors.New("malformed edge statistics file")
)
