package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestStartPprof(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var log bytes.Buffer
	if err := startPprof(ctx, "127.0.0.1:0", &log); err != nil {
		t.Fatal(err)
	}
	url := strings.TrimSpace(strings.TrimPrefix(log.String(), "sqlgate: pprof on "))
	resp, err := http.Get(url + "cmdline")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || len(body) == 0 {
		t.Fatalf("GET %scmdline: %d %q", url, resp.StatusCode, body)
	}
	if err := startPprof(ctx, "127.0.0.1:bad", io.Discard); err == nil {
		t.Fatal("a bad address was accepted")
	}
}
