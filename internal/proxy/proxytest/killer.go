package proxytest

import (
	"bytes"
	"io"
	"sync/atomic"
	"testing"
)

// NewPipeKiller starts a fault relay to target that forwards every write
// of the proxy and, after every eighth write carrying marker more than
// once (several clients' statements in one write: a pipeline), resets
// all the connections it relays; resets counts the resets.
func NewPipeKiller(t testing.TB, target string, marker []byte, resets *atomic.Int64) *Relay {
	var r *Relay
	var n atomic.Int64
	r = NewRelay(t, target, func(dst io.Writer, src io.Reader) {
		buf := make([]byte, 32<<10)
		for {
			m, err := src.Read(buf)
			if m > 0 {
				if _, werr := dst.Write(buf[:m]); werr != nil {
					return
				}
				if bytes.Count(buf[:m], marker) > 1 && n.Add(1)%8 == 0 {
					resets.Add(1)
					go r.Reset()
				}
			}
			if err != nil {
				return
			}
		}
	})
	return r
}
