package storagetest

import (
	"context"
	"sync"
	"testing"

	"github.com/clew-tracing/clew/internal/model"
	"github.com/clew-tracing/clew/internal/storage"
	"github.com/clew-tracing/clew/internal/storage/memstore"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestRunMemstore runs the whole suite against memstore, the reference
// backend, so that a change to the suite is checked where it is made.
func TestRunMemstore(t *testing.T) {
	Run(t, memFactory, Options{Ephemeral: true})
}

// diskFake is memstore made "persistent" by keeping every written span per
// directory in the test process, so that the restart test can be checked
// without a real engine.
type diskFake struct {
	*memstore.Store
	dir  string
	disk *fakeDisk
}

type fakeDisk struct {
	mu    sync.Mutex
	spans map[string][]*model.Span
}

func (d *diskFake) Write(ctx context.Context, spans []*model.Span) error {
	if err := d.Store.Write(ctx, spans); err != nil {
		return err
	}
	d.disk.mu.Lock()
	defer d.disk.mu.Unlock()
	d.disk.spans[d.dir] = append(d.disk.spans[d.dir], cloneSpans(spans)...)
	return nil
}

func TestRestartWithPersistentFake(t *testing.T) {
	disk := &fakeDisk{spans: map[string][]*model.Span{}}
	opened := 0
	s := &suite{f: func(t testing.TB, dir string) storage.Backend {
		opened++
		st := memstore.New()
		disk.mu.Lock()
		old := cloneSpans(disk.spans[dir])
		disk.mu.Unlock()
		if err := st.Write(context.Background(), old); err != nil {
			t.Fatal(err)
		}
		return &diskFake{Store: st, dir: dir, disk: disk}
	}}
	s.testRestart(t)
	if opened != 4 {
		t.Errorf("the restart test opened the backend %d times, want 4", opened)
	}
}
