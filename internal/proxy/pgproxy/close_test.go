package pgproxy

import (
	"context"
	"testing"
)

// Closing an idle backend waits for its server process to exit: when
// the pool's Close returns, the backend is gone from pg_stat_activity
// (and from the server's connection count), so the budget slot it gives
// back is free at the server too.
func TestServer_idleBackendClosedSynchronously(t *testing.T) {
	tp := startProxy(t, 4)
	d := tp.direct(t)
	var pids []string
	for range 4 {
		c := tp.connect(t, "")
		pids = append(pids, queryString(t, c, "select pg_backend_pid()::text"))
		defer c.Close(context.Background())
	}
	for _, pid := range pids {
		if got := queryString(t, d, "select count(*)::text from pg_stat_activity where pid = $1::int", pid); got != "1" {
			t.Fatalf("backend %s not in pg_stat_activity before the close (%s)", pid, got)
		}
	}
	tp.srv.pool.Close()
	for _, pid := range pids {
		if got := queryString(t, d, "select count(*)::text from pg_stat_activity where pid = $1::int", pid); got != "0" {
			t.Errorf("backend %s still in pg_stat_activity after the pool closed", pid)
		}
	}
}
