package postgres

import (
	"io"
	"net"
	"time"
)

// ExitWait bounds how long closing a connection waits for its server
// process to exit. PostgreSQL's backends exit in milliseconds; the bound
// only matters for a server that no longer answers.
const ExitWait = 250 * time.Millisecond

// Terminate ends the session on nc, which must not be read by anyone
// else: it sends Terminate and, when wait > 0, waits up to wait for the
// server to close its end — PostgreSQL keeps the socket open until the
// backend process has exited, so from then on the connection no longer
// counts against the server's max_connections (nor shows in
// pg_stat_activity) and a slot of sqlgate's budget freed now is free at
// the server too. Input still arriving is discarded. nc is closed.
func Terminate(nc net.Conn, wait time.Duration) error {
	_ = nc.SetWriteDeadline(time.Now().Add(max(wait, ExitWait)))
	if _, err := nc.Write([]byte{'X', 0, 0, 0, 4}); err == nil && wait > 0 {
		_ = nc.SetReadDeadline(time.Now().Add(wait))
		_, _ = io.Copy(io.Discard, nc)
	}
	return nc.Close()
}
