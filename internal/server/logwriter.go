package server

import (
	"io"
	"sync"
	"time"
)

// LogWriter buffers the process log (one access-log line per request) and
// writes it off the request path: a Write appends to a buffer; the
// buffer goes to the underlying writer logFlushDelay after the first line
// in it, or at once (in the writing goroutine, as back-pressure) when it
// reaches logFlushBytes. While the underlying writer is stuck, writers
// wait once the buffer is full (block, never drop): the buffer holds at
// most logFlushBytes plus one line. Close writes what is left, so no line
// is lost at shutdown; lines written after Close go straight through.
type LogWriter struct {
	w     io.Writer
	timer *time.Timer

	wmu sync.Mutex // serialises writes to w, keeping lines in order

	mu      sync.Mutex // guards following fields
	buf     []byte
	spare   []byte
	pending bool // the flush timer is armed
	closed  bool
}

const (
	logFlushDelay = 50 * time.Millisecond
	logFlushBytes = 64 << 10
)

// NewLogWriter returns a LogWriter over w. Close it before the process exits.
func NewLogWriter(w io.Writer) *LogWriter {
	l := &LogWriter{w: w, buf: make([]byte, 0, logFlushBytes), spare: make([]byte, 0, logFlushBytes)}
	l.timer = time.AfterFunc(time.Hour, func() { _ = l.Flush() })
	l.timer.Stop()
	return l
}

// Write buffers p (one or more whole lines, as log/slog writes them).
func (l *LogWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		l.wmu.Lock()
		defer l.wmu.Unlock()
		return l.w.Write(p)
	}
	for len(l.buf) >= logFlushBytes {
		// Full: another writer's flush is waiting for a write to the
		// underlying writer in progress (a slow or stuck disk). Wait for
		// it rather than grow: memory stays bounded, and the request
		// path slows down with the disk instead.
		l.mu.Unlock()
		if err := l.Flush(); err != nil {
			return 0, err
		}
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			return l.Write(p)
		}
	}
	l.buf = append(l.buf, p...)
	full := len(l.buf) >= logFlushBytes
	if !full && !l.pending {
		l.pending = true
		l.timer.Reset(logFlushDelay)
	}
	l.mu.Unlock()
	if full {
		if err := l.Flush(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush writes the buffered lines now.
func (l *LogWriter) Flush() error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	l.mu.Lock()
	out := l.buf
	l.buf, l.spare = l.spare[:0], nil
	l.pending = false
	l.mu.Unlock()
	var err error
	if len(out) > 0 {
		_, err = l.w.Write(out)
	}
	l.mu.Lock()
	if cap(out) <= 4*logFlushBytes { // keep a normal-sized buffer for reuse
		l.spare = out[:0]
	} else {
		l.spare = make([]byte, 0, logFlushBytes)
	}
	l.mu.Unlock()
	return err
}

// Close writes what is buffered; later writes are unbuffered.
func (l *LogWriter) Close() error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.timer.Stop()
	return l.Flush()
}
