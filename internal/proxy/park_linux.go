//go:build linux

package proxy

// The parked-session watcher on Linux: one epoll instance for the
// process, read by one goroutine (one OS thread blocked in epoll_wait).
// Each parked socket is registered one-shot for input or hang-up; the
// Go runtime's own poller keeps its registration of the same descriptor
// untouched. An event carries the descriptor and a generation, so an
// event for a session already woken (its descriptor since reused by
// another parked session) is ignored.

import (
	"net"
	"sync"
	"syscall"
)

var watcher struct {
	mu    sync.Mutex
	epfd  int // -1 while no watcher runs
	gen   uint32
	byFD  map[int]*Session
	count int
}

func init() { watcher.epfd = -1 }

// watchPoll is how often the watcher looks whether any session is still
// parked; with none it stops (and a park starts it again).
const watchPoll = 200 // milliseconds

// connFD returns the descriptor of a TCP or Unix socket.
func connFD(c net.Conn) (int, bool) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return 0, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, false
	}
	fd := -1
	if rc.Control(func(f uintptr) { fd = int(f) }) != nil || fd < 0 {
		return 0, false
	}
	return fd, true
}

// watch registers a parked session, starting the watcher if none runs;
// sess.mu is held.
func watch(sess *Session) bool {
	watcher.mu.Lock()
	defer watcher.mu.Unlock()
	if watcher.epfd < 0 {
		epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			return false
		}
		watcher.epfd, watcher.byFD = epfd, map[int]*Session{}
		go watchLoop(epfd)
	}
	if old := watcher.byFD[sess.park.fd]; old != nil {
		// Its descriptor was closed (and so left the epoll set) while it
		// was parked, and now numbers this connection: wake it, its read
		// fails.
		delete(watcher.byFD, sess.park.fd)
		watcher.count--
		if old.park.parked.CompareAndSwap(true, false) {
			go old.srv.resume(old)
		}
	}
	watcher.gen++
	sess.park.gen = watcher.gen
	sess.park.parked.Store(true)
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT, Fd: int32(sess.park.fd), Pad: int32(sess.park.gen)}
	if err := syscall.EpollCtl(watcher.epfd, syscall.EPOLL_CTL_ADD, sess.park.fd, &ev); err != nil {
		sess.park.parked.Store(false)
		return false
	}
	watcher.byFD[sess.park.fd] = sess
	watcher.count++
	return true
}

// unwatch removes a session that is being woken.
func unwatch(sess *Session) {
	watcher.mu.Lock()
	defer watcher.mu.Unlock()
	if watcher.byFD[sess.park.fd] == sess {
		delete(watcher.byFD, sess.park.fd)
		watcher.count--
		_ = syscall.EpollCtl(watcher.epfd, syscall.EPOLL_CTL_DEL, sess.park.fd, nil)
	}
}

// watchLoop wakes the sessions whose sockets report, until none is
// parked.
func watchLoop(epfd int) {
	events := make([]syscall.EpollEvent, 128)
	for {
		n, err := syscall.EpollWait(epfd, events, watchPoll)
		if err != nil {
			n = 0 // EINTR
		}
		for _, ev := range events[:n] {
			watcher.mu.Lock()
			sess := watcher.byFD[int(ev.Fd)]
			if sess != nil && sess.park.gen != uint32(ev.Pad) {
				sess = nil
			}
			watcher.mu.Unlock()
			if sess != nil {
				sess.unpark()
			}
		}
		watcher.mu.Lock()
		if watcher.count == 0 {
			_ = syscall.Close(epfd)
			watcher.epfd, watcher.byFD = -1, nil
			watcher.mu.Unlock()
			return
		}
		watcher.mu.Unlock()
	}
}
