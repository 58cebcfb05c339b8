package pgproxy

// Protocol accounting of a backend connection. Every frame the proxy
// writes to a backend goes through backend.write and every frame it reads
// through backend.next, whoever sent it (the client, or the proxy itself:
// parameter capture, replay, prepares, ROLLBACK, DISCARD ALL). From those
// two points the backend knows, without any help from the session, how
// many ReadyForQuery replies are still owed, whether extended-protocol
// messages await a Sync, whether it is in COPY IN, and its transaction
// status. The pool reuses a connection only when all of that says "idle,
// nothing pending" (backend.Broken); settle drains what is owed, in
// bounded time, when a client leaves mid-way.

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// account notes a frame about to be written to the backend. Flags are
// stored only when they change: a load is a plain read, a store a locked
// instruction.
func (b *backend) account(t byte) {
	switch t {
	case 'Q', 'F':
		b.inflight.Add(1)
	case 'S':
		b.inflight.Add(1)
		if b.unsynced.Load() {
			b.unsynced.Store(false)
		}
	case 'P', 'B', 'D', 'E', 'C':
		if !b.unsynced.Load() {
			b.unsynced.Store(true)
		}
	}
}

// next reads the next backend frame and notes what it settles.
func (b *backend) next() ([]byte, error) {
	frame, err := b.r.next()
	if err != nil {
		return nil, err
	}
	switch frame[0] {
	case 'Z':
		b.inflight.Add(-1)
		if b.copyIn.Load() {
			b.copyIn.Store(false)
		}
		if len(frame) >= 6 && b.txStatus.Load() != uint32(frame[5]) {
			b.txStatus.Store(uint32(frame[5]))
		}
	case 'G', 'W':
		b.copyIn.Store(true)
	case 'C', 'E':
		if b.copyIn.Load() {
			b.copyIn.Store(false)
		}
	}
	return frame, nil
}

// idle reports that nothing is owed: no reply in flight, no unsynced
// extended-protocol messages, not in COPY, and no transaction open.
func (b *backend) idle() bool {
	return b.inflight.Load() == 0 && !b.unsynced.Load() && !b.copyIn.Load() && b.txStatus.Load() == 'I'
}

// settleTimeout bounds draining a backend its client left.
const settleTimeout = 5 * time.Second

// settle brings a backend no relay reads any more back to "idle, nothing
// pending": it aborts a COPY IN, ends unsynced extended-protocol messages
// with a Sync, consumes every reply still owed (the client's and the
// proxy's own), and rolls back an open transaction. ParameterStatus
// reports seen meanwhile update b.params. An error means the backend must
// be closed.
func (b *backend) settle(ctx context.Context) error {
	if b.broken.Load() {
		return errors.New("backend broken")
	}
	if b.idle() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	if b.copyIn.Load() {
		if err := b.write(appendFrame(nil, 'f', []byte("client disconnected"), []byte{0})); err != nil {
			return err
		}
	}
	if b.unsynced.Load() {
		if err := b.write([]byte{'S', 0, 0, 0, 4}); err != nil {
			return err
		}
	}
	if err := b.flush(); err != nil {
		return err
	}
	if err := b.drain(ctx, nil); err != nil {
		return err
	}
	if b.txStatus.Load() != 'I' {
		if _, _, err := b.exec(ctx, "ROLLBACK"); err != nil {
			return err
		}
	}
	if !b.idle() {
		return fmt.Errorf("backend not idle after settling (status %c)", byte(b.txStatus.Load()))
	}
	return nil
}

// drain reads frames until no ReadyForQuery is owed, keeping the first
// row and error in q (when set). A COPY OUT is read through; a COPY IN
// started by a proxy query makes the connection unusable.
func (b *backend) drain(ctx context.Context, q *execResult) error {
	if dl, ok := ctx.Deadline(); ok {
		_ = b.conn.SetReadDeadline(dl)
		defer func() { _ = b.conn.SetReadDeadline(time.Time{}) }()
	}
	for b.inflight.Load() > 0 {
		frame, err := b.next()
		if err != nil {
			b.broken.Store(true)
			return err
		}
		switch frame[0] {
		case 'S':
			b.noteStatus(frame[5:])
		case 'G', 'W':
			b.broken.Store(true)
			return errors.New("unexpected COPY IN while draining")
		}
		if q != nil {
			q.note(frame)
		}
	}
	return nil
}

// noteStatus records a ParameterStatus of a tracked parameter read by
// the proxy itself (no client sees it).
func (b *backend) noteStatus(body []byte) {
	name, rest, ok := cstring(body)
	if !ok {
		return
	}
	val, _, ok := cstring(rest)
	if !ok {
		return
	}
	if n := lower(string(name)); trackedParams[n] {
		b.params[n] = string(val)
		b.paramsID = 0
	}
}

// execResult collects the first row and error of proxy queries, and the
// tag of the first CommandComplete.
type execResult struct {
	row      []string
	err      error
	firstTag string
}

func (q *execResult) note(frame []byte) {
	switch frame[0] {
	case 'C':
		if q.firstTag == "" && q.err == nil {
			tag, _, _ := cstring(frame[5:])
			q.firstTag = string(tag)
		}
	case 'D':
		if q.row == nil {
			q.row = decodeDataRow(frame[5:])
		}
	case 'E':
		if q.err == nil {
			q.err = decodeError(frame[5:])
		}
	}
}

// unknownParam marks a tracked parameter whose value on a backend is not
// known (a read-back whose reply no relay saw); values never contain NUL,
// so replay always sets or resets it.
const unknownParam = "\x00unknown"

// forget marks names as unknown on b, so the next replay sets them.
func (b *backend) forget(names []string) {
	for _, n := range names {
		b.params[n] = unknownParam
	}
	b.paramsID = 0
}

// reset returns b's session to the state of a new connection (DISCARD
// ALL: role, parameters, temporary objects, prepared statements, cursors,
// LISTEN, advisory locks, sequence state; then init_query); b must be
// idle.
func (b *backend) reset(ctx context.Context) error {
	if _, _, err := b.exec(ctx, b.resetSQL()...); err != nil {
		b.broken.Store(true)
		return err
	}
	b.clean()
	return nil
}

// resetSQL is the reset: DISCARD ALL, then init_query, as on a new
// connection.
func (b *backend) resetSQL() []string {
	q := b.initQuery()
	if q == "" {
		return []string{"DISCARD ALL"}
	}
	return []string{"DISCARD ALL", q}
}

// clean records that b's session is as a new connection's.
func (b *backend) clean() {
	b.stmts.clear()
	clear(b.params)
	b.paramsID = 0
	b.owner, b.dirty = 0, false
}
