//go:build unix

package procs

import (
	"syscall"
	"time"
)

const supported = true

// processCPU is the process's user and system CPU time (0 if unknown).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
