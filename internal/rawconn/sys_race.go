//go:build linux && race

package rawconn

import "syscall"

// Under the race detector the reads and writes go through package
// syscall after all: its Read and Write tell the detector that a write to
// a socket happens before the read of it on the other end, and without
// that edge every test whose client hands data to a server through a
// socket would report races the program does not have. Builds without
// -race make the raw calls (sys_norace.go).

func sysRead(fd uintptr, b []byte) (int, syscall.Errno) {
	n, err := syscall.Read(int(fd), b)
	return max(n, 0), errno(err)
}

func sysWrite(fd uintptr, b []byte) (int, syscall.Errno) {
	n, err := syscall.Write(int(fd), b)
	return max(n, 0), errno(err)
}

func errno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	if e, ok := err.(syscall.Errno); ok {
		return e
	}
	return syscall.EIO
}
