package server

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCorruptBlockIsQuarantined flips a byte in a block on disk and a torn
// tail in the WAL: the server still starts, says what is wrong in /readyz,
// and serves everything else.
func TestCorruptBlockIsQuarantined(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.HeadMaxAge = 100 * time.Millisecond // cut blocks quickly
	ts := startServer(t, cfg)
	now := time.Now().Add(-time.Minute)
	const inBlock = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	if code, resp := post(t, ts.url("otlp-http", "/v1/traces"), "application/json",
		otlpJSON("corrupt", inBlock, "0000000000000001", "", "old", now, time.Millisecond)); code != 200 {
		t.Fatalf("POST: %d %s", code, resp)
	}
	blocks := filepath.Join(cfg.DataDir, "blocks")
	var blockDir string
	waitFor(t, "a block to be cut", func() bool {
		entries, _ := os.ReadDir(blocks)
		for _, e := range entries {
			if e.IsDir() && !strings.Contains(e.Name(), ".tmp") {
				blockDir = filepath.Join(blocks, e.Name())
				return true
			}
		}
		return false
	})
	// Written after that cut: it lives in the WAL or a later block, both intact.
	const inWAL = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	if code, resp := post(t, ts.url("otlp-http", "/v1/traces"), "application/json",
		otlpJSON("corrupt", inWAL, "0000000000000002", "", "new", now, time.Millisecond)); code != 200 {
		t.Fatalf("POST: %d %s", code, resp)
	}
	ts.stop()

	idx := filepath.Join(blockDir, "index")
	b, err := os.ReadFile(idx)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(idx, b, 0o644); err != nil {
		t.Fatal(err)
	}
	// A torn record at the end of the newest WAL segment, as a crash
	// mid-write leaves it.
	segs, _ := filepath.Glob(filepath.Join(cfg.DataDir, "wal", "*"))
	if len(segs) > 0 {
		f, err := os.OpenFile(segs[len(segs)-1], os.O_APPEND|os.O_WRONLY, 0)
		if err == nil {
			f.Write([]byte{0x40, 0, 0, 0, 1, 2, 3})
			f.Close()
		}
	}

	ts2 := startServer(t, cfg)
	var ready map[string]any
	getJSON(t, ts2.url("http", "/readyz"), 200, &ready)
	if ready["status"] != "degraded" || !strings.Contains(fmt.Sprint(ready["detail"]), "quarantine") {
		t.Errorf("readyz = %v, want degraded with a quarantine detail", ready)
	}
	if n := traceSpanCount(t, ts2, inWAL); n != 1 {
		t.Errorf("trace from the WAL: %d spans", n)
	}
	getJSON(t, ts2.url("http", "/api/traces/"+inBlock), 404, nil)
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "quarantine", filepath.Base(blockDir))); err != nil {
		t.Errorf("block not moved to quarantine: %v", err)
	}
}
