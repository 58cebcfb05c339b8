//go:build !unix

package procs

import "time"

// supported is false: there is no process CPU time to sample here.
const supported = false

func processCPU() time.Duration { return 0 }
