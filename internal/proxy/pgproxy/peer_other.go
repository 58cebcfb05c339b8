//go:build !unix

package pgproxy

import "net"

// peerGone reports false where the socket cannot be peeked at: a lost
// idle connection is then found by the statement that uses it.
func peerGone(net.Conn) bool { return false }
