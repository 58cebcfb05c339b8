//go:build unix

package pgproxy

import (
	"crypto/tls"
	"errors"
	"net"
	"syscall"
)

// peerGone reports, without blocking, whether the server has closed the
// idle connection c or sent it something unasked: a server shut down
// "immediately" sends a termination notice, then closes. (Over TLS the
// bytes are not decrypted; PostgreSQL sends no session tickets, so an
// idle connection has no other reason to receive any, and a wrong guess
// only costs a new connection.) Such a connection is closed instead of
// lent: the next statement of an idle client then gets a fresh
// connection, or the database's unavailability as an error, never a lost
// connection.
func peerGone(c net.Conn) bool {
	if t, ok := c.(*tls.Conn); ok {
		c = t.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	gone := false
	var buf [1]byte
	_ = rc.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case err == nil:
			gone = true // unasked bytes, or 0 bytes: closed
		case errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EINTR):
		default:
			gone = true // reset
		}
		return true
	})
	return gone
}
