package local

import (
	"testing"
	"time"
)

// BenchmarkStatsAdd measures what the head's statistics add to appending
// one span.
func BenchmarkStatsAdd(b *testing.B) {
	spans := gen(1, 100, 10, time.Unix(1_700_000_000, 0))
	st := opStats{}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		s := spans[i%len(spans)]
		st.add(s, s.Service())
	}
}
