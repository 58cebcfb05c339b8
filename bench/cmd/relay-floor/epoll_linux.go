package main

import (
	"log"
	"net"
	"os"
	"runtime"
	"slices"
	"syscall"
	"unsafe"
)

// eventLoop is a level-triggered epoll loop over raw descriptors; coro:
// each descriptor is read by a coroutine the loop resumes (coro_linux.go)
// instead of by the loop itself.
type eventLoop struct {
	epfd int
	coro bool
}

func newEventLoop(coro bool) (*eventLoop, error) {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return &eventLoop{epfd: fd, coro: coro}, nil
}

// add takes the pair's descriptors out of the Go runtime (a duplicate
// each; closing the net.Conn removes the original from the netpoller)
// and registers them, each event carrying its peer's descriptor.
func (l *eventLoop) add(client, server *net.TCPConn) {
	cfd, err1 := detach(client)
	sfd, err2 := detach(server)
	if err1 != nil || err2 != nil {
		log.Print("detach: ", err1, err2)
		closeFDs(cfd, sfd)
		return
	}
	if l.coro && !addCoro(cfd, sfd) {
		closeFDs(cfd, sfd)
		return
	}
	for _, p := range [][2]int{{cfd, sfd}, {sfd, cfd}} {
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(p[0]), Pad: int32(p[1])}
		if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, p[0], &ev); err != nil {
			log.Print("epoll_ctl: ", err)
			closeFDs(cfd, sfd)
			return
		}
	}
}

// detach returns a non-blocking duplicate of c's descriptor and closes c.
func detach(c *net.TCPConn) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return -1, err
	}
	nfd := -1
	cerr := rc.Control(func(fd uintptr) { nfd, err = syscall.Dup(int(fd)) })
	_ = c.Close()
	if cerr != nil {
		return -1, cerr
	}
	if err != nil {
		return -1, err
	}
	return nfd, syscall.SetNonblock(nfd, true)
}

func closeFDs(fds ...int) {
	for _, fd := range fds {
		if fd >= 0 {
			_ = syscall.Close(fd)
		}
	}
}

// run waits for ready descriptors and relays what each holds to its
// peer. The epoll descriptor itself waits in the Go runtime's netpoller
// (it is readable while any of its sockets is ready), so the loop is an
// ordinary goroutine that parks when nothing is ready: epoll_wait is
// called without a timeout, as a raw system call, until it reports
// nothing, and then the goroutine waits for the set to become ready.
// Within the one readiness wait (RawConn.Read) a readiness that arrives
// after the last empty epoll_wait is not lost.
func (l *eventLoop) run() {
	if err := syscall.SetNonblock(l.epfd, true); err != nil {
		log.Fatal(err)
	}
	rc, err := os.NewFile(uintptr(l.epfd), "epoll").SyscallConn()
	if err != nil {
		log.Fatal(err)
	}
	events := make([]syscall.EpollEvent, 128)
	buf := make([]byte, 16<<10)
	var ended []int // descriptors closed while handling the current batch
	for {
		err := rc.Read(func(uintptr) bool {
			for {
				n, errno := epollPoll(l.epfd, events)
				if errno == syscall.EINTR {
					continue
				}
				if errno != 0 {
					log.Fatal("epoll_wait: ", errno)
				}
				if n == 0 {
					return false
				}
				ended = ended[:0]
				for _, ev := range events[:n] {
					fd, peer := int(ev.Fd), int(ev.Pad)
					if slices.Contains(ended, fd) {
						// Its pair ended earlier in this batch: the event is
						// stale, and the number may be a new connection's.
						continue
					}
					if l.handle(fd, peer, buf) {
						ended = append(ended, fd, peer)
					}
				}
			}
		})
		if err != nil {
			log.Fatal(err)
		}
	}
}

// epollPoll is epoll_wait with a zero timeout, as a raw system call.
func epollPoll(epfd int, events []syscall.EpollEvent) (int, syscall.Errno) {
	n, _, errno := syscall.RawSyscall6(syscall.SYS_EPOLL_WAIT, uintptr(epfd),
		uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	return int(n), errno
}

// handle serves a readable descriptor and reports whether its pair ended
// (both descriptors closed, which also removes them from the set).
func (l *eventLoop) handle(fd, peer int, buf []byte) bool {
	if l.coro {
		return resume(fd, peer)
	}
	return relay(fd, peer, buf)
}

// relay reads fd once and writes what it read to peer; at the end of
// either side both are closed.
func relay(fd, peer int, buf []byte) bool {
	n, errno := rawIO(syscall.SYS_READ, fd, buf)
	if errno == syscall.EAGAIN || errno == syscall.EINTR {
		return false
	}
	if n <= 0 || errno != 0 || writeAll(peer, buf[:n]) != 0 {
		closeFDs(fd, peer)
		return true
	}
	return false
}

// writeAll writes b to a non-blocking descriptor, retrying while its
// buffer is full (a yardstick's shortcut: replies here are small).
func writeAll(fd int, b []byte) syscall.Errno {
	for len(b) > 0 {
		k, errno := rawIO(syscall.SYS_WRITE, fd, b)
		switch errno {
		case syscall.EAGAIN, syscall.EINTR:
			runtime.Gosched()
		case 0:
			b = b[k:]
		default:
			return errno
		}
	}
	return 0
}

// rawIO is read(2) or write(2) of a non-blocking descriptor as a raw
// system call: it never blocks, so it skips the scheduler's syscall state
// (as sqlgate's internal/rawconn does).
func rawIO(trap uintptr, fd int, b []byte) (int, syscall.Errno) {
	n, _, errno := syscall.RawSyscall(trap, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return int(n), errno
}
