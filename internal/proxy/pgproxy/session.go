package pgproxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sqlgate/sqlgate/internal/proxy"
)

type pooled = proxy.Pooled[*backend]

// session is one client. The client goroutine runs loop and is the only
// writer to the held backend (with the relay's capture queries, under
// wmu); the relay goroutine reads the backend and writes the client.
//
// Neither goroutine makes a system call while holding mu: the relay
// flushes the client writer under cwmu only, and the client goroutine
// flushes the backend under wmu only. While the client goroutine has
// unflushed frames on the held backend (writing), a relay that sees the
// transaction end leaves the backend in pending, and the client goroutine
// returns it to the pool after its flush, so the relay never waits for it.
type session struct {
	srv   *Server
	ps    *proxy.Session
	cr    msgReader
	login proxy.Login
	pid   uint32
	key   [4]byte
	// startupParams are the client's start-up parameters to replay
	// (lower-case names); RESET ALL returns to them.
	startupParams map[string]string

	ctx context.Context
	// hmu is held while client frames are handled: by the client
	// goroutine, or by a Ready on the goroutine that hands the session a
	// backend. It guards the fields down to borrows and the ones below.
	hmu      sync.Mutex
	hcond    *sync.Cond  // on hmu: the backlog shrank or the session ended; see waitBacklog
	backlog  []byte      // client frames read while queued for a backend
	given    *pooled     // handed over by Ready, taken by the next borrow
	givenErr error       // the error that ended the wait, for the next borrow
	gone     bool        // the session ended: a late Ready returns its backend
	haveLast bool        // lastQuery and lastClass are set (below)
	queued   atomic.Bool // in the pool's queue (set and cleared under hmu)
	failSet  atomic.Bool // failErr is set
	// piped: the session's unit shares a backend write with other
	// sessions' (pipeline.go); its client's frames wait in the backlog
	// until its reply has been read.
	piped atomic.Bool
	// members are the sessions whose units joined the pipeline this
	// session leads, with where each unit starts in the backend's write
	// buffer (pipeline.go); unit is this session's own unit while it is
	// pipelined, to retry on another backend if it was never written.
	members []pipeMember
	// lastQuery and lastClass: the last simple query text classified
	// (classifyQuery) and its class; lastStrings: where its string
	// literals are (stringSpans).
	lastQuery   []byte
	lastClass   sqlClass
	lastStrings []int32
	unit        []byte
	// ahead is the byte a resting session read without a buffer (rest.go).
	ahead struct {
		b  [1]byte
		pc prefixConn
	}

	stmts       map[string]*stmtInfo // client statement name → shared statement
	lastUnnamed []byte               // body of the last unnamed Parse
	// lastUnnamedInfo is the last unnamed statement's shared entry, whose
	// class applies again when a Bind parses it on another backend.
	lastUnnamedInfo *stmtInfo
	skipToSync      bool
	out             [][]byte // frames to write to the backend for one message
	scratch         []byte
	borrows         int
	// mayInline: a frame is handled by the session's own goroutine;
	// unstarted: the held backend was borrowed by it and its relay is not
	// started yet (inline.go).
	mayInline, unstarted bool
	inlining             bool // relayInline runs (false again unless it panicked)

	cwmu sync.Mutex    // guards cw and flushErr; taken after mu, never before
	cw   *bufio.Writer // nil while nothing is buffered (see writer)
	// heldReply: the relay on the session's goroutine ended its unit with
	// the reply's tail still in cw, to send once the backend went back
	// (releaseInline); awaitClient sends it before it reads the client.
	heldReply bool
	flushErr  error

	mu          sync.Mutex // guards following fields
	be          *pooled
	writing     bool          // the client goroutine has unflushed frames on be
	pending     *pooled       // released by the relay while writing; the client goroutine puts it
	pendingWait chan struct{} // cancel in flight for pending, or nil
	q           queue
	params      map[string]string // tracked parameters as the client sees them
	span        []byte            // backend frames passOn collected, not written yet
	paramsID    uint64            // names the set params holds (paramSets); 0: not known
	capture     map[string]bool   // tracked parameters to re-read before release
	resets      uint64            // RESET ALL / DISCARD ALL run by the client (stale captures)
	status      byte              // transaction status of the held backend
	unnamedOK   bool              // the held backend has the client's unnamed statement
	pinned      bool
	closing     bool
	handedOff   bool
	clientWrite bool // cw has unflushed frames written by the client goroutine
	// relayGen numbers the borrows; relayLive: the relay of the current
	// one has not returned. cleanup waits for it on relayWait, made when
	// it does (relayEndLocked), for borrow relayWaitGen.
	relayGen     uint64
	relayLive    bool
	relayWait    chan struct{}
	relayWaitGen uint64
	cancels      int
	cancelDone   chan struct{}
	outBytes     uint64
	failErr      error // set by a Ready that ended the session
	// lastBackend is the pool id of the connection the session last
	// borrowed: the only one whose unseen state it may still find (replay).
	lastBackend proxy.LastBackend
}

// authTimedOut turns authentication running out of startupTimeout into
// PostgreSQL's own answer, FATAL 57014 "canceling authentication due to
// timeout", with a moment to write it, instead of a connection closed
// mid-exchange (which clients report as an unexpected EOF).
func authTimedOut(ps *proxy.Session, err error) error {
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		return err
	}
	_ = ps.Conn.SetWriteDeadline(deadlineIn(time.Second))
	return fatal("57014", "canceling authentication due to timeout", err)
}

// ServeSession implements proxy.Handler.
func (s *Server) ServeSession(ctx context.Context, ps *proxy.Session) (err error) {
	sess := &session{srv: s, ps: ps, status: 'I', ctx: ctx}
	ps.WatchClient(sess)
	defer func() { sess.end(err) }()
	_ = ps.Conn.SetDeadline(deadlineIn(s.startupTimeout))
	params, err := sess.startup()
	if err != nil {
		if !errors.Is(err, errCancelRequest) {
			ps.SetupDone("error")
		}
		return err
	}
	if err := sess.setup(ctx, params); err != nil {
		err = authTimedOut(ps, err)
		var pe *pgError
		if errors.As(err, &pe) && pe.Code == "28P01" {
			ps.SetupDone("auth_failed")
		} else {
			ps.SetupDone("error")
		}
		return err
	}
	_ = ps.Conn.SetDeadline(deadlineIn(0))
	ps.SetupDone("ok")
	ps.AllowRest()
	ps.Identify(sess.login.User, sess.login.Database)
	ps.Log().Debug("session start", "remote", ps.Conn.RemoteAddr(), "tls", ps.TLS(), "iam", sess.login.ViaIAM)
	if err := sess.parkFresh(); err != nil {
		return err
	}
	return sess.serve(ctx)
}

// serve runs the session loop and maps how it ended.
func (s *session) serve(ctx context.Context) error {
	err := s.loop(ctx)
	if errors.Is(err, proxy.ErrIdleTimeout) {
		return fatal("57P05", "terminating connection due to idle-session timeout", err)
	}
	if errors.Is(err, proxy.ErrShuttingDown) {
		return fatal("57P01", "terminating connection due to administrator command", err)
	}
	return err
}

// resume carries on a parked session (rest.go) on a new goroutine.
func (s *session) resume(ctx context.Context) (err error) {
	defer func() { s.end(err) }()
	s.cr.br = newClientReader(s.ps.Conn)
	return s.serve(ctx)
}

// end tells the client why the session ended and releases what it
// holds; a parked session has not ended.
func (s *session) end(err error) {
	if errors.Is(err, proxy.ErrParked) {
		return
	}
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, errCancelRequest) && !errors.Is(err, errTerminate) {
		var pe *pgError
		if errors.As(err, &pe) {
			s.writeNow(pe.encode())
		}
	}
	s.cleanup()
	s.srv.unregister(s)
}

// setup checks start-up parameters, authenticates and greets.
func (s *session) setup(ctx context.Context, params map[string]string) error {
	user := params["user"]
	if user == "" {
		return fatal("28000", "no PostgreSQL user name specified in startup packet", nil)
	}
	if r := params["replication"]; r != "" && r != "false" && r != "off" && r != "0" {
		return fatal("08P01", "replication connections are not supported by the proxy", nil)
	}
	if s.ps.Server().Config().RequireTLS && !s.ps.TLS() {
		return fatal("28000", "the proxy requires an SSL connection (require_tls)", nil)
	}
	login, err := s.authenticate(ctx, user)
	if err != nil {
		return err
	}
	login.Database = params["database"]
	if login.Database == "" {
		login.Database = user
	}
	s.login = s.srv.pool.Canonical(login)
	s.startupParams = map[string]string{}
	for k, v := range params {
		switch k {
		case "user", "database", "replication":
		default:
			if len(k) < 5 || k[:5] != "_pq_." {
				s.startupParams[lower(k)] = v
			}
		}
	}
	s.params = cloneMap(s.startupParams)
	s.paramsID = s.srv.paramSets.id(s.params)
	s.srv.register(s)
	return s.greet(ctx)
}

var errTerminate = errors.New("client terminated")

// idleNow reports whether no transaction is open: no backend held, or a
// pinned one that is idle.
func (s *session) idleNow() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.be == nil && !s.queued.Load() || s.pinned && s.status == 'I' && s.q.len() == 0
}

// loop reads client messages until the client leaves or an error.
func (s *session) loop(ctx context.Context) error {
	midUnit := false
	for {
		if midUnit && s.cr.buffered() {
			// The next message of an extended-protocol unit is already
			// buffered: the session is busy, not waiting for its client.
			if err := s.failed(); err != nil {
				return err
			}
		} else if ready, err := s.awaitClient(); err != nil {
			return err
		} else if !ready {
			continue
		}
		frame, err := s.cr.next()
		if err != nil {
			return err
		}
		t := frame[0]
		midUnit = t == 'P' || t == 'B' || t == 'D' || t == 'E'
		if err := s.takeOne(frame); err != nil {
			return err
		}
	}
}

// awaitClient marks the session idle when it holds no backend, waits for
// the client's next byte and marks it busy; false: go round again (a rest
// or a nudge ended the wait).
func (s *session) awaitClient() (bool, error) {
	if s.idleNow() {
		if err := s.ps.WaitIdle(); err != nil {
			_ = s.sendHeld()
			return false, err
		}
	}
	if err := s.failed(); err != nil {
		_ = s.sendHeld()
		return false, err
	}
	s.ps.Peeking(true)
	err := s.sendHeld()
	if err == nil {
		_, err = s.cr.br.Peek(1)
	}
	s.ps.Peeking(false)
	if err != nil {
		return false, s.idleRead(err)
	}
	s.ps.Busy()
	return true, nil
}

// sendHeld sends the reply the session's own relay left in the client
// buffer (heldReply). It does not wait for the client's next message in
// the same step (rawconn.Conn.WriteAwait): a client that pipelines may
// have sent it already, and then nothing more arrives to announce it.
func (s *session) sendHeld() error {
	if !s.heldReply {
		return nil
	}
	s.heldReply = false
	s.cwmu.Lock()
	defer s.cwmu.Unlock()
	return s.flushCW()
}

// takeOne handles one client message and, when it ends what the client
// sent, flushes and relays what the session's own goroutine relays.
func (s *session) takeOne(frame []byte) error {
	t := frame[0]
	s.hmu.Lock()
	s.mayInline = true
	err := s.take(frame)
	s.mayInline = false
	last := err == nil && !s.cr.buffered()
	await := false
	if last { // flush before next would block
		await = s.awaitsOwn(t)
		err = s.flushAll(await)
	}
	s.hmu.Unlock()
	if err != nil {
		if await {
			s.ps.StopWatch()
		}
		return err
	}
	if last {
		s.relayOwn(t, await)
	}
	return nil
}

// awaitsOwn reports, before the flush of a message of type t that ends
// what the client sent, whether this goroutine will relay the replies
// itself (relayOwn): then the flush returns once they begin to arrive,
// with the client watched meanwhile, and the read that would find nothing
// yet is spared. s.hmu is held.
func (s *session) awaitsOwn(t byte) bool {
	if !s.unstarted || t != 'Q' && t != 'S' && t != 'F' {
		return false
	}
	s.mu.Lock()
	owed := s.q.len() > 0 && s.be != nil
	s.mu.Unlock()
	if owed {
		s.inlineStarts()
		s.ps.ArmWatch()
	}
	return owed
}

// inlineStarts calls the server's inline hook (tests) as the session's
// goroutine takes on the relay of its own replies.
func (s *session) inlineStarts() {
	if h := s.srv.inlineHook.Load(); h != nil {
		(*h)()
	}
}

// flushAll sends buffered backend frames and locally generated client
// frames; await: see awaitsOwn.
func (s *session) flushAll(await bool) error {
	s.mu.Lock()
	clientWrite := s.clientWrite
	s.clientWrite = false
	s.mu.Unlock()
	s.cwmu.Lock()
	if clientWrite {
		_ = s.flushCW()
	}
	ferr := s.flushErr
	s.cwmu.Unlock()
	if ferr != nil {
		return ferr
	}
	return s.flushBackend(await)
}

// flushBackend sends the frames the client goroutine buffered on the held
// backend and, if the relay released it meanwhile, returns it to the pool;
// await: see awaitsOwn.
func (s *session) flushBackend(await bool) error {
	s.mu.Lock()
	if !s.writing {
		s.mu.Unlock()
		return nil
	}
	pb := s.be
	if pb == nil {
		pb = s.pending
	}
	if pb == nil { // the relay discarded a lost backend
		s.writing = false
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	b := pb.Conn
	b.wmu.Lock()
	var err error
	if await {
		err = b.flushAwait()
	} else {
		err = b.flush()
	}
	b.wmu.Unlock()
	s.mu.Lock()
	s.writing = false
	rel, wait := s.pending, s.pendingWait
	s.pending, s.pendingWait = nil, nil
	s.mu.Unlock()
	if rel != nil {
		s.putBackend(rel, wait)
	}
	if err != nil {
		return s.backendWriteFailed(err)
	}
	return nil
}

// putBackend returns a released backend to the pool once a CancelRequest
// in flight (wait) was delivered.
func (s *session) putBackend(pb *pooled, wait chan struct{}) {
	if wait != nil {
		<-wait // a CancelRequest in flight must land before anyone else gets b
	}
	// Idle before the Put: it may hand this session its next backend.
	_ = s.ps.WaitIdle()
	s.srv.pool.Put(pb)
}

// writeNow writes frames to the client and flushes (start-up, errors).
func (s *session) writeNow(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cwmu.Lock()
	defer s.cwmu.Unlock()
	s.writeCW(b)
	_ = s.flushCW()
}

// clientErr returns the first client write error.
func (s *session) clientErr() error {
	s.cwmu.Lock()
	defer s.cwmu.Unlock()
	return s.flushErr
}

// writeLocked buffers a client frame; s.mu is held. Write errors are
// remembered, not returned: the relay keeps draining the backend.
func (s *session) writeLocked(b []byte) {
	s.cwmu.Lock()
	s.writeCW(b)
	s.cwmu.Unlock()
}

// writeCW buffers a client frame; s.cwmu is held.
func (s *session) writeCW(b []byte) {
	if s.flushErr != nil {
		return
	}
	if _, err := s.writer().Write(b); err != nil {
		s.flushErr = err
	}
}

// localReply sends frames generated by the proxy; with no backend held
// they go straight to the client, else they queue behind pending replies.
func (s *session) localReply(frames ...[]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range frames {
		s.replyLocked(f)
	}
}

// replyLocked emits a synthetic reply in order; s.mu is held.
func (s *session) replyLocked(f []byte) {
	if s.q.len() == 0 {
		s.writeLocked(f)
		s.clientWrite = true
		return
	}
	s.q.push(entry{synth: f})
}

// backendWriteFailed ends the session after the backend socket failed.
func (s *session) backendWriteFailed(err error) error {
	s.srv.core.CountError("backend_lost")
	return fatal("08006", "server connection lost", fmt.Errorf("write backend: %w", err))
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// cwPool holds client write buffers. An idle session holds none: 10,000
// idle clients would otherwise keep 16 KiB each.
var cwPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 16<<10) }}

// writer returns the client write buffer, taking one from the pool when
// the session holds none; s.cwmu is held.
func (s *session) writer() *bufio.Writer {
	if s.cw == nil {
		s.cw = cwPool.Get().(*bufio.Writer)
		s.cw.Reset(s.ps.Conn)
	}
	return s.cw
}

// flushCW flushes the client buffer and gives it back to the pool once
// empty; a failure is kept as flushErr (the first one), after which
// writeCW drops frames. s.cwmu is held.
func (s *session) flushCW() error {
	if s.cw == nil {
		return nil
	}
	err := s.cw.Flush()
	if err != nil && s.flushErr == nil {
		s.flushErr = err
	}
	if err == nil && s.cw.Buffered() == 0 {
		s.cw.Reset(nil)
		cwPool.Put(s.cw)
		s.cw = nil
	}
	return err
}
