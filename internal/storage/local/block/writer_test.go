package block

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/clew-tracing/clew/internal/model"
)

// The writer's memory is bounded by the row-group size, not the number of
// spans: stream many traces (with fresh but equal Resource objects and
// high-cardinality attribute values) and check that the buffers and
// dictionaries stop growing and the heap does not grow with the span count.
func TestWriterMemoryBounded(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 12))
	world := newRealWorld(r)
	w, err := NewWriter(t.TempDir(), WriteOptions{RowGroupSpans: 1024})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	var id model.TraceID
	next := func() []*model.Span {
		spans := genRealistic(r, world, 1, 1_700_000_000_000_000_000)
		// Ascending trace IDs, fresh resource objects with equal content.
		id[8]++
		if id[8] == 0 {
			id[7]++
		}
		for _, s := range spans {
			s.TraceID = id
			res := *s.Resource
			s.Resource = &res
		}
		return spans
	}
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	var h1 uint64
	spans := 0
	for i := range 20000 {
		for _, s := range next() {
			if err := w.Append(s); err != nil {
				t.Fatal(err)
			}
			spans++
		}
		if i == 5000 {
			h1 = heap()
		}
	}
	h2 := heap()
	if cap(w.buf) > 4*1024 {
		t.Errorf("span buffer grew to %d", cap(w.buf))
	}
	if n := len(w.dict.symList); n > 100 {
		t.Errorf("%d symbols", n)
	}
	if n := len(w.dict.resList); n > 24 {
		t.Errorf("%d resources", n)
	}
	strs := 0
	for _, b := range w.re.attrs.blocks {
		strs += len(b.tab.ids)
	}
	if strs > 2*1024*10 {
		t.Errorf("attribute string tables hold %d strings", strs)
	}
	// 15000 more traces (about 150k spans, over 100 MB of span data): the
	// heap may grow only by the row-group table.
	if h2 > h1+4<<20 {
		t.Errorf("heap grew from %d to %d bytes over %d spans", h1, h2, spans)
	}
	t.Logf("%d spans, %d row groups, heap %d -> %d", spans, len(w.rgs), h1, h2)
}
