// Package sketch is a mergeable quantile sketch for latencies: a
// log-bucketed histogram with a bounded relative error (the DDSketch idea).
// Per-operation baselines and RED metrics keep one sketch per time bucket,
// so that any window's p50/p99 is the merge of its buckets — cheap to read,
// exact in count and sum, and within the relative accuracy in quantiles.
package sketch

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"unsafe"
)

// RelativeAccuracy is the bound on a quantile's relative error.
const RelativeAccuracy = 0.01

var (
	gamma    = (1 + RelativeAccuracy) / (1 - RelativeAccuracy)
	logGamma = math.Log(gamma)
)

// maxBins bounds a sketch's memory: 2,048 bins cover 1 ns to beyond a day
// at 1% accuracy, so real latencies never collapse.
const maxBins = 2048

// Sketch summarises non-negative values. The zero value is an empty
// sketch. A Sketch is not safe for concurrent use.
type Sketch struct {
	offset int32    // index of bins[0]
	bins   []uint64 // counts per log bucket
	zeros  uint64   // values < 1
	count  uint64
	sum    float64
	min    float64
	max    float64
}

// index returns the bucket of v >= 1.
func index(v float64) int32 { return int32(math.Ceil(math.Log(v) / logGamma)) }

// value returns the representative value of bucket i (the geometric middle,
// which bounds the relative error on both sides).
func value(i int32) float64 { return 2 * math.Pow(gamma, float64(i)) / (1 + gamma) }

// Add records one value; negative values count as zero.
func (s *Sketch) Add(v float64) { s.AddN(v, 1) }

// AddN records a value n times.
func (s *Sketch) AddN(v float64, n uint64) {
	if n == 0 {
		return
	}
	if v < 0 || math.IsNaN(v) {
		v = 0
	}
	if s.count == 0 || v < s.min {
		s.min = v
	}
	if s.count == 0 || v > s.max {
		s.max = v
	}
	s.count += n
	s.sum += v * float64(n)
	if v < 1 {
		s.zeros += n
		return
	}
	s.addBin(index(v), n)
}

func (s *Sketch) addBin(i int32, n uint64) {
	if len(s.bins) == 0 {
		s.offset = i
		s.bins = append(s.bins, n)
		return
	}
	switch {
	case i < s.offset:
		grow := int(s.offset - i)
		if len(s.bins)+grow > maxBins {
			// NB: collapse the lowest buckets rather than grow without
			// bound; only quantiles far below the rest lose accuracy.
			s.bins[0] += n
			return
		}
		nb := make([]uint64, len(s.bins)+grow, cap(s.bins)+grow)
		copy(nb[grow:], s.bins)
		s.bins, s.offset = nb, i
		s.bins[0] = n
	case int(i-s.offset) >= len(s.bins):
		need := int(i-s.offset) + 1
		if need > maxBins {
			s.bins[len(s.bins)-1] += n
			return
		}
		s.bins = append(s.bins, make([]uint64, need-len(s.bins))...)
		s.bins[i-s.offset] += n
	default:
		s.bins[i-s.offset] += n
	}
}

// Merge adds every value of o to s.
func (s *Sketch) Merge(o *Sketch) {
	if o == nil || o.count == 0 {
		return
	}
	if s.count == 0 || o.min < s.min {
		s.min = o.min
	}
	if s.count == 0 || o.max > s.max {
		s.max = o.max
	}
	s.count += o.count
	s.sum += o.sum
	s.zeros += o.zeros
	for j, n := range o.bins {
		if n != 0 {
			s.addBin(o.offset+int32(j), n)
		}
	}
}

// Count returns how many values were added.
func (s *Sketch) Count() uint64 { return s.count }

// Sum returns the sum of the values.
func (s *Sketch) Sum() float64 { return s.sum }

// Min and Max return the exact extremes (0 when empty).
func (s *Sketch) Min() float64 { return s.min }

// Max returns the largest value added.
func (s *Sketch) Max() float64 { return s.max }

// Quantile returns the q-quantile (0 <= q <= 1) by the nearest-rank
// method within RelativeAccuracy, clamped to the exact min and max; 0 when
// empty.
func (s *Sketch) Quantile(q float64) float64 {
	if s.count == 0 {
		return 0
	}
	if q <= 0 {
		return s.min
	}
	if q >= 1 {
		return s.max
	}
	// NB: nearest rank (the ceil(q×n)-th smallest value), as
	// analysis.Quantile computes it from samples, so that a p99 of a
	// few calls is their maximum whichever way it is computed.
	rank := uint64(max(math.Ceil(q*float64(s.count)), 1)) - 1
	if rank < s.zeros {
		return s.min
	}
	seen := s.zeros
	for j, n := range s.bins {
		seen += n
		if seen > rank {
			return min(max(value(s.offset+int32(j)), s.min), s.max)
		}
	}
	return s.max
}

// Remove takes back one value that was added, so that a summary can leave
// out values known to be in it (the spans of the trace being explained).
// It is a no-op when v's bucket is empty. Min and max are not restored:
// they stay bounds of what is left.
func (s *Sketch) Remove(v float64) {
	if s.count == 0 {
		return
	}
	if v < 0 || math.IsNaN(v) {
		v = 0
	}
	if v < 1 {
		if s.zeros == 0 {
			return
		}
		s.zeros--
	} else {
		i := index(v) - s.offset
		if i < 0 || int(i) >= len(s.bins) || s.bins[i] == 0 {
			return
		}
		s.bins[i]--
	}
	s.count--
	s.sum -= v
}

// Clone returns a copy of s that shares no memory with it.
func (s *Sketch) Clone() *Sketch {
	c := *s
	c.bins = slices.Clone(s.bins)
	return &c
}

// CountBelow estimates how many values are below v, within
// RelativeAccuracy of v: values in v's own log bucket count as not below.
func (s *Sketch) CountBelow(v float64) uint64 {
	switch {
	case s.count == 0 || v <= s.min:
		return 0
	case v > s.max:
		return s.count
	}
	n := s.zeros
	if v < 1 {
		return n
	}
	top := index(v)
	for j, c := range s.bins {
		if s.offset+int32(j) >= top {
			break
		}
		n += c
	}
	return n
}

// MarshalBinary encodes the sketch compactly (for storing per-bucket sketches).
func (s *Sketch) MarshalBinary() ([]byte, error) { return s.AppendBinary(nil), nil }

// AppendBinary appends the encoding of s to dst.
func (s *Sketch) AppendBinary(dst []byte) []byte {
	dst = append(dst, 1) // version
	dst = binary.AppendUvarint(dst, s.count)
	dst = binary.AppendUvarint(dst, s.zeros)
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(s.sum))
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(s.min))
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(s.max))
	dst = binary.AppendVarint(dst, int64(s.offset))
	dst = binary.AppendUvarint(dst, uint64(len(s.bins)))
	for _, n := range s.bins {
		dst = binary.AppendUvarint(dst, n)
	}
	return dst
}

// ErrCorrupt reports an encoding UnmarshalBinary cannot read.
var ErrCorrupt = errors.New("sketch: corrupt encoding")

// UnmarshalBinary decodes what MarshalBinary produced; it treats b as untrusted.
func (s *Sketch) UnmarshalBinary(b []byte) error {
	if len(b) < 1 || b[0] != 1 {
		return ErrCorrupt
	}
	b = b[1:]
	var out Sketch
	var ok bool
	uv := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			ok = false
			return 0
		}
		b = b[n:]
		return v
	}
	f64 := func() float64 {
		if len(b) < 8 {
			ok = false
			return 0
		}
		v := math.Float64frombits(binary.LittleEndian.Uint64(b))
		b = b[8:]
		return v
	}
	ok = true
	out.count, out.zeros = uv(), uv()
	out.sum, out.min, out.max = f64(), f64(), f64()
	off, n := binary.Varint(b)
	if !ok || n <= 0 {
		return ErrCorrupt
	}
	b = b[n:]
	out.offset = int32(off)
	nb := uv()
	if !ok || nb > maxBins || nb > uint64(len(b)) {
		return ErrCorrupt
	}
	out.bins = make([]uint64, nb)
	var total uint64
	for i := range out.bins {
		out.bins[i] = uv()
		total += out.bins[i]
	}
	if !ok || len(b) != 0 || total+out.zeros != out.count {
		return ErrCorrupt
	}
	*s = out
	return nil
}

// LogGamma is the natural logarithm of the buckets' growth factor: a value
// v >= 1 falls in bucket ceil(ln(v) / LogGamma). A database that cannot run
// Go (ClickHouse's materialized views) buckets values with this formula and
// hands the counts to [FromBins].
func LogGamma() float64 { return logGamma }

// BinIndex returns the bucket of a value v >= 1 (see [LogGamma]).
func BinIndex(v float64) int32 { return index(v) }

// FromBins reassembles a sketch from bucket counts kept elsewhere: zeros
// counts the values below 1, counts[i] the values in bucket idx[i]; sum,
// min and max are the values' exact aggregates. Buckets may repeat and come
// in any order; a count of 0 is ignored.
func FromBins(zeros uint64, idx []int32, counts []uint64, sum, min, max float64) Sketch {
	var s Sketch
	for i, n := range counts {
		if i < len(idx) && n != 0 {
			s.addBin(idx[i], n)
			s.count += n
		}
	}
	s.zeros = zeros
	s.count += zeros
	if s.count > 0 {
		s.sum, s.min, s.max = sum, min, max
	}
	return s
}

// Footprint estimates the bytes s occupies in memory, so that a holder of
// many sketches can count them against a memory bound.
func (s *Sketch) Footprint() int { return int(unsafe.Sizeof(*s)) + 8*cap(s.bins) }
