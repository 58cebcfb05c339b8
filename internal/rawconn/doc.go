// Package rawconn gives the proxies' and the engines' sockets reads and
// writes that do not wake the Go runtime's system monitor.
//
// Every system call a goroutine makes through package syscall enters the
// scheduler's syscall state, and when the process has been idle (every
// processor parked, as between two transactions of a single client) that
// step also wakes the runtime's monitor thread, which sleeps 20 µs, finds
// nothing to do and goes back to sleep: a futex wake, a nanosleep and a
// futex wait — three context switches — for each read of a socket that
// follows a quiet moment. A relay serving one client at a time pays that
// on almost every transaction, and measured with perf it is most of what
// separates its CPU per transaction from an event-loop proxy's.
//
// A read or write of a non-blocking socket never blocks, so it has no use
// for the syscall state: Wrap returns a connection whose Read and Write
// issue read(2) and write(2) as raw system calls inside the runtime's own
// readiness wait (syscall.RawConn), which keeps the descriptor referenced
// (a concurrent Close cannot hand its number to another connection) and
// still honours deadlines and Close. A read or write that would block
// waits in the netpoller exactly as net.Conn does. Under the race
// detector the calls go through package syscall instead, whose reads and
// writes carry the happens-before edge between the two ends of a socket
// that the detector needs (sys_race.go).
package rawconn
