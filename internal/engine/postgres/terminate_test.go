package postgres

import (
	"fmt"
	"testing"
)

// Close returns once the server process has exited: the connection is
// gone from pg_stat_activity (and from the server's connection count) at
// once, not some milliseconds later.
func TestConn_CloseWaitsForTheBackend(t *testing.T) {
	watcher := connect(t)
	for i := range 20 {
		c := connect(t)
		pid := exec(t, c, "select pg_backend_pid()").Rows[0][0].Long
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		n := exec(t, watcher, fmt.Sprintf("select count(*) from pg_stat_activity where pid = %d", pid)).Rows[0][0].Long
		if n != 0 {
			t.Fatalf("close %d: backend %d still in pg_stat_activity after Close returned", i, pid)
		}
	}
}
