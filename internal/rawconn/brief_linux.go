//go:build linux

package rawconn

// Brief waits. When a read finds nothing, the runtime parks the goroutine
// and the thread that ran it goes looking for other work: through the
// scheduler's search (findRunnable), into the netpoller's epoll_wait with
// no processor, and back out — taking a processor, waking a spinning
// thread — when the socket reports. A proxy serving one client at a time
// pays that path twice per transaction (for the database's reply, for the
// client's next statement), and measured with perf it is about a fifth of
// the proxy's user time at one client; an event-loop proxy's thread
// simply sleeps in the kernel until its socket is readable.
//
// So while the process is quiet, a read that finds nothing first waits in
// the kernel on that one socket (ppoll) for up to briefFor, keeping its
// thread and processor, and reads at once when data arrives; only when
// nothing came does it park as usual. Quiet means fewer proxy sessions
// awake (Awake) than the runtime has processors, and at most one goroutine
// fewer than processors waits this way at a time, so at least one
// processor always runs everything else. A wait that comes back empty
// (an idle client) makes the connection's next waits skip it, for
// exponentially more reads each miss, so a resting client costs a brief
// wait only now and then. A brief wait blocks a concurrent Close or a new
// deadline for at most briefFor.

import (
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// briefFor bounds one brief wait: several times a database's reply to a
// small statement, and a client's next statement after its reply.
const briefFor = 500 * time.Microsecond

// briefNow counts the goroutines in a brief wait.
var briefNow atomic.Int32

// briefHits counts the brief waits that ended in data (for tests).
var briefHits atomic.Int64

// brief is a connection's brief-wait state, under its read side's mutex.
type brief struct {
	misses uint8  // consecutive waits that ended empty
	skip   uint16 // reads left before the next brief wait
}

// wait waits up to briefFor for fd to become readable (or hang up) when
// the process is quiet and the connection's recent waits paid off; it
// reports whether the socket is ready, so that the read be retried at once.
func (b *brief) wait(fd uintptr) bool {
	if b.skip > 0 {
		b.skip--
		return false
	}
	n := awake.Load()
	if n < 1 {
		return false
	}
	slots := max(int64(runtime.GOMAXPROCS(0))-1, 1)
	if n > slots {
		return false
	}
	if int64(briefNow.Add(1)) > slots {
		briefNow.Add(-1)
		return false
	}
	ready := pollIn(fd, briefFor)
	briefNow.Add(-1)
	if ready {
		b.misses = 0
		briefHits.Add(1)
		return true
	}
	b.misses = min(b.misses+1, 10)
	b.skip = 1<<b.misses - 1
	return false
}

// pollIn waits up to d for fd to have input or a hang-up: ppoll(2) as a
// raw system call, so the runtime sees the goroutine running, not in a
// system call. A blocking call would wake the runtime's monitor thread,
// which would hand the processor to another thread after 20 µs when no
// other is idle (a single processor) and keep waking every 20 µs while
// the waits last; d is short enough that nothing needs the processor
// back sooner (a stop for the collector waits at most d).
func pollIn(fd uintptr, d time.Duration) bool {
	pfd := struct {
		fd      int32
		events  int16
		revents int16
	}{fd: int32(fd), events: pollInput | pollRDHUP}
	ts := syscall.NsecToTimespec(int64(d))
	n, _, e := syscall.RawSyscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
	return e == 0 && n > 0 // interrupted (EINTR): the read parks as usual
}

const (
	pollInput = 0x1    // POLLIN
	pollRDHUP = 0x2000 // POLLRDHUP
)
