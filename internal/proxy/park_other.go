//go:build !linux

package proxy

import "net"

// connFD reports no descriptor: sessions are not parked on this system.
func connFD(net.Conn) (int, bool) { return 0, false }

func watch(*Session) bool { return false }

func unwatch(*Session) {}
