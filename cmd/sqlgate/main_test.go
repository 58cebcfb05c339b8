package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun_Commands(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		out, err string
	}{
		{"help", []string{"--help"}, 0, "sqlgate serve", ""},
		{"version", []string{"version"}, 0, "sqlgate ", ""},
		{"unknown", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"no args", nil, 2, "", "Usage:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(tt.args, &out, &errb); code != tt.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tt.code, errb.String())
			}
			if !strings.Contains(out.String(), tt.out) || !strings.Contains(errb.String(), tt.err) {
				t.Fatalf("stdout %q stderr %q", out.String(), errb.String())
			}
		})
	}
}

func TestRun_BadConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.yaml")
	cfg := "clusters:\n  - {name: a, engine: sqlite}\n  - {name: b, engine: oracle}\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range [][]string{{"serve", "--config", path}, {"config", "check", "--config", path}} {
		var out, errb bytes.Buffer
		if code := run(cmd, &out, &errb); code != 2 {
			t.Fatalf("%v: exit %d, want 2", cmd, code)
		}
		want := "sqlgate: config: clusters[1].engine: unknown engine \"oracle\" (want mysql, postgres or sqlite)\n"
		if errb.String() != want {
			t.Fatalf("%v: stderr %q, want %q", cmd, errb.String(), want)
		}
	}
}
