package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestAPIKeysCommand_dataDir runs every key and plan command through the
// data-dir backend, in the order a user would.
func TestAPIKeysCommand_dataDir(t *testing.T) {
	t.Setenv("SQLGATE_ENDPOINT_URL", "")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ENDPOINT_URL_API_GATEWAY", "")
	dir := t.TempDir()
	run := func(name string, args ...string) (int, string) {
		t.Helper()
		var out, errb bytes.Buffer
		code := apiKeysCommand(name, append(args, "--data-dir", dir), &out, &errb)
		return code, out.String() + errb.String()
	}
	steps := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"usage-plans", []string{"create", "gold", "--rate", "5", "--daily", "100"}, 0, "created usage plan gold"},
		{"apikeys", []string{"create", "app", "--plan", "gold"}, 0, "API_KEY="},
		{"apikeys", []string{"list"}, 0, "gold"},
		{"usage-plans", []string{"list"}, 0, "gold"},
		{"usage-plans", []string{"unbind", "gold", "app"}, 0, "api key app: plans "},
		{"usage-plans", []string{"bind", "gold", "app"}, 0, "api key app: plans gold"},
		{"apikeys", []string{"usage", "app"}, 0, "total"},
		{"apikeys", []string{"revoke", "app"}, 0, "revoked api key app"},
		{"usage-plans", []string{"delete", "gold"}, 0, ""},
		{"usage-plans", []string{"list"}, 0, "NAME"},
		{"apikeys", []string{"create"}, 2, "takes 1 argument"},
		{"apikeys", []string{"rename", "x"}, 2, "unknown command"},
	}
	for _, st := range steps {
		code, out := run(st.name, st.args...)
		if code != st.code || !strings.Contains(out, st.want) {
			t.Fatalf("%s %v: exit %d, output %q; want exit %d containing %q", st.name, st.args, code, out, st.code, st.want)
		}
	}
	if _, out := run("usage-plans", "list"); strings.Contains(out, "gold") {
		t.Errorf("deleted plan still listed:\n%s", out)
	}
}
