//go:build linux

package proxy

// The parked-session watcher on Linux: one epoll instance for the
// process, read by one goroutine. The instance is itself registered with
// the Go runtime's poller (an epoll descriptor is readable while it has
// events), so the goroutine waits like any socket read, without an OS
// thread blocked in epoll_wait and the thread hand-offs of its every
// wake-up. Each parked socket is registered one-shot for input or
// hang-up; the runtime's own registration of the same descriptor stays
// untouched. An event carries the descriptor and a generation, so an
// event for a session already woken (its descriptor since reused by
// another parked session) is ignored.

import (
	"net"
	"os"
	"sync"
	"syscall"
	"time"
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
const watchPoll = 200 * time.Millisecond

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
		epfd, f, err := newEpoll()
		if err != nil {
			return false
		}
		watcher.epfd, watcher.byFD = epfd, map[int]*Session{}
		go watchLoop(epfd, f)
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

// newEpoll returns a new epoll instance, non-blocking and registered
// with the runtime's poller as f.
func newEpoll() (int, *os.File, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return -1, nil, err
	}
	if err := syscall.SetNonblock(epfd, true); err != nil {
		_ = syscall.Close(epfd)
		return -1, nil, err
	}
	return epfd, os.NewFile(uintptr(epfd), "park-epoll"), nil
}

// watchLoop wakes the sessions whose sockets report, until none is
// parked. It takes the events without waiting (epoll_wait with no
// timeout) and, when there are none, waits in the runtime's poller for
// the instance to become readable, for at most watchPoll.
func watchLoop(epfd int, f *os.File) {
	events := make([]syscall.EpollEvent, 128)
	take := func(uintptr) bool {
		for {
			n, err := syscall.EpollWait(epfd, events, 0)
			if err == syscall.EINTR {
				continue
			}
			if err != nil {
				return true
			}
			if n == 0 {
				return false // wait until readable
			}
			wake(events[:n])
		}
	}
	rc, err := f.SyscallConn()
	for {
		if err == nil {
			_ = f.SetReadDeadline(time.Now().Add(watchPoll))
			if rerr := rc.Read(take); rerr != nil && !os.IsTimeout(rerr) {
				err = rerr
			}
		}
		if err != nil { // not pollable after all: wait in epoll_wait
			n, werr := syscall.EpollWait(epfd, events, int(watchPoll/time.Millisecond))
			if werr == nil {
				wake(events[:n])
			}
		}
		watcher.mu.Lock()
		if watcher.count == 0 {
			watcher.epfd, watcher.byFD = -1, nil
			watcher.mu.Unlock()
			_ = f.Close()
			return
		}
		watcher.mu.Unlock()
	}
}

// wake unparks the sessions of events.
func wake(events []syscall.EpollEvent) {
	for _, ev := range events {
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
}
