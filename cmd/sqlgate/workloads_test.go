package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestWorkloadsCommand(t *testing.T) {
	dir := t.TempDir()
	cmd := func(code int, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if got := run(append(args, "--data-dir", dir), &out, &errb); got != code {
			t.Fatalf("%v: exit %d, want %d (stderr %q)", args, got, code, errb.String())
		}
		return out.String() + errb.String()
	}
	cmd(2, "workloads", "create", "fn")                               // no --role
	cmd(1, "workloads", "create", "fn", "--role", "nope")             // no such role
	cmd(2, "workloads", "create", "fn", "--role", "r", "--tags", "x") // bad tag
	out := cmd(0, "connect", "--cluster", "default", "--function", "orders")
	if !strings.Contains(out, "AWS_CONTAINER_AUTHORIZATION_TOKEN=sgwt_") || strings.Contains(out, "AWS_SECRET_ACCESS_KEY") {
		t.Fatalf("connect: %s", out)
	}
	if out := cmd(0, "workloads", "list"); !strings.Contains(out, "orders") || strings.Contains(out, "sgwt_") {
		t.Fatalf("list: %s", out)
	}
	cmd(0, "workloads", "rotate-token", "orders")
	cmd(0, "roles", "revoke-sessions", "fn-orders")
	cmd(0, "workloads", "delete", "orders")
	cmd(1, "workloads", "delete", "orders")
	if out := cmd(0, "connect", "--cluster", "default", "--function", "legacy", "--access-key"); !strings.Contains(out, "AWS_SECRET_ACCESS_KEY=") {
		t.Fatalf("connect --access-key: %s", out)
	}
}
