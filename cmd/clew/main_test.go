package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestVersionAndUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"version"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "clew ") {
		t.Errorf("version: %d %q", code, out.String())
	}
	if code := run(context.Background(), []string{"frobnicate"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "unknown command") {
		t.Errorf("unknown command: %d %q", code, errb.String())
	}
	if code := run(context.Background(), nil, &out, &errb); code != 2 {
		t.Errorf("no command: %d", code)
	}
}
