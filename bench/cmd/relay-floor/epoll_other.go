//go:build !linux

package main

import (
	"errors"
	"net"
)

type eventLoop struct{}

func newEventLoop(bool) (*eventLoop, error) { return nil, errors.New("epoll mode needs Linux") }

func (*eventLoop) run()                  {}
func (*eventLoop) add(_, _ *net.TCPConn) {}
