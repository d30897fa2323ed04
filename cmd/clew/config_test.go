package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestServeFlagPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "clew.yaml")
	os.WriteFile(file, []byte("data-dir: /from/file\nzipkin_addr: ':1111'\nretention: 48h\ncors-allowed-origins: [http://a.example, http://b.example]\nhttp-addr: ''\n"), 0o644)
	t.Setenv("CLEW_ZIPKIN_ADDR", ":2222")
	t.Setenv("CLEW_OTLP_GRPC_ADDR", ":3333")

	cfg, _, _, err := parseServeFlags([]string{"--config", file, "--otlp-grpc-addr", ":4444"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	check := func(name, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	check("data-dir (file)", cfg.DataDir, "/from/file")
	check("zipkin-addr (env beats file)", cfg.ZipkinAddr, ":2222")
	check("otlp-grpc-addr (flag beats env)", cfg.OTLPGRPCAddr, ":4444")
	check("otlp-http-addr (default)", cfg.OTLPHTTPAddr, ":4318")
	check("http-addr (file disables)", cfg.HTTPAddr, "")
	if cfg.Retention != 48*time.Hour {
		t.Errorf("retention = %v", cfg.Retention)
	}
	if len(cfg.CORSAllowedOrigins) != 2 || cfg.CORSAllowedOrigins[1] != "http://b.example" {
		t.Errorf("cors = %v", cfg.CORSAllowedOrigins)
	}
}

func TestServeFlagErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("no-such-flag: 1\n"), 0o644)
	for _, args := range [][]string{
		{"--wal-fsync", "sometimes"},
		{"--storage", "nowhere"},
		{"--log-level", "loud"},
		{"--config", bad},
		{"--config", filepath.Join(dir, "missing.yaml")},
		{"extra-arg"},
	} {
		if _, _, _, err := parseServeFlags(args, io.Discard); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	t.Setenv("CLEW_RETENTION", "forever")
	if _, _, _, err := parseServeFlags(nil, io.Discard); err == nil {
		t.Error("bad CLEW_RETENTION accepted")
	}
}
