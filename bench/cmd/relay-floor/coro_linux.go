package main

import (
	"iter"
	"sync/atomic"
	"syscall"
)

// The coro mode: blocking-style relay code (read, then write what was
// read, in a loop) run as coroutines (iter.Pull) that the epoll loop
// resumes, the way a proxy could keep code written for goroutines and
// still wait in one event loop. A read that would wait yields to the loop
// instead of parking in the netpoller; the loop resumes the coroutine
// reading a descriptor when epoll reports it readable. A switch between
// the loop and a coroutine bypasses the scheduler (runtime coroswitch).

// coroReaders maps a descriptor to the coroutine reading it (loop only
// resumes; add stores before the descriptor is registered).
var coroReaders [1 << 16]atomic.Pointer[coroutine]

type coroutine struct {
	next func() (struct{}, bool)
	stop func()
}

// addCoro starts the two direction's coroutines of a pair.
func addCoro(cfd, sfd int) bool {
	if cfd >= len(coroReaders) || sfd >= len(coroReaders) {
		return false
	}
	for _, p := range [][2]int{{cfd, sfd}, {sfd, cfd}} {
		fd, peer := p[0], p[1]
		next, stop := iter.Pull(func(yield func(struct{}) bool) { pipeYielding(fd, peer, yield) })
		coroReaders[fd].Store(&coroutine{next: next, stop: stop})
	}
	return true
}

// resume runs the coroutine reading fd until it waits again or ends;
// when it ends (either side closed or failed) the loop stops the other
// direction's coroutine and closes both descriptors, once, and reports
// true.
func resume(fd, peer int) bool {
	c := coroReaders[fd].Load()
	if c == nil {
		return false
	}
	if _, ok := c.next(); ok {
		return false
	}
	coroReaders[fd].Store(nil)
	if p := coroReaders[peer].Swap(nil); p != nil {
		p.stop()
	}
	closeFDs(fd, peer)
	return true
}

// pipeYielding is the blocking-style copy loop. Its read yields when the
// previous read left the socket empty (fewer bytes than asked for): with
// a level-triggered loop nothing is lost by not asking again, since the
// loop resumes it while the socket has data.
func pipeYielding(fd, peer int, yield func(struct{}) bool) {
	buf := make([]byte, 16<<10)
	drained := true // resumed only when readable
	for {
		if drained && !yield(struct{}{}) {
			return
		}
		n, errno := rawIO(syscall.SYS_READ, fd, buf)
		switch {
		case errno == syscall.EAGAIN || errno == syscall.EINTR:
			drained = true
			continue
		case n <= 0 || errno != 0:
			return
		}
		drained = n < len(buf)
		if writeAll(peer, buf[:n]) != 0 {
			return
		}
	}
}
