package pgproxy

import (
	"bufio"
	"container/list"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/engine/postgres"
	"github.com/sqlgate/sqlgate/internal/framebuf"
	"github.com/sqlgate/sqlgate/internal/proxy"
	"github.com/sqlgate/sqlgate/internal/rawconn"
)

// stmtCacheSize is the per-backend LRU (a var for tests) of proxy-named prepared statements
// (PgBouncer's max_prepared_statements).
var stmtCacheSize = 256

// backend is one PostgreSQL server connection, logged in through pgconn and
// then driven frame by frame. One session uses it at a time; wmu orders
// writes between the session's two goroutines.
type backend struct {
	conn net.Conn
	r    msgReader
	bw   *bufio.Writer
	wt   rawconn.AwaitTarget // what bw writes to
	wmu  sync.Mutex
	pid  uint32
	key  []byte
	addr string
	// writer, when set, is the cluster's current writer (proxy.Deps.Writer):
	// once it is not addr the connection is broken. route, when set, is a
	// read-only endpoint's (proxy.Deps.Route): once it does not serve addr
	// the connection is broken.
	writer func() string
	route  proxy.Route
	closed func()      // tells route the connection closed (nil without one)
	broken atomic.Bool // set by either session goroutine
	// params are the tracked parameters set on this connection beyond the
	// server defaults (lower-case name → value).
	params map[string]string
	// paramsID names the set params holds (paramSets); 0: not known.
	paramsID uint64
	stmts    *stmtLRU

	// Protocol accounting (account.go), kept by write and next.
	inflight atomic.Int32  // Query/Sync/FunctionCall sent, ReadyForQuery not yet read
	unsynced atomic.Bool   // extended-protocol messages sent since the last Sync
	copyIn   atomic.Bool   // the server awaits COPY data
	txStatus atomic.Uint32 // status byte of the last ReadyForQuery

	// owner is the id of the session that last held the connection, 0
	// when its session is as clean as a new connection's. Only the
	// holder reads or writes it.
	owner uint64
	// initQuery returns the proxy's current init_query, run on connect
	// and again after every reset.
	initQuery func() string
	// dirty: the owner ran something whose effect on the session the
	// proxy cannot vouch for (a function call); the session is reset
	// before another client gets the connection.
	dirty bool

	jobs chan relayJob // relays for the reader goroutine (dispatch.go)
	// chained counts the pipelined units written behind the one whose
	// relay runs (pipeline.go); set by whoever builds the pipeline,
	// counted down by the reader goroutine.
	chained atomic.Int32
	// handing is set while the reader goroutine returns the connection
	// to the pool at the end of a relay: a Ready it runs may build a
	// pipeline, since no relay reads the connection meanwhile.
	handing   atomic.Bool
	serving   sync.Once
	closeOnce sync.Once
}

var _ proxy.Conn = (*backend)(nil)

// Close closes the socket after a Terminate. An idle backend (nothing
// reads its socket then) is closed synchronously: Close returns once its
// server process has exited, so the budget slot given back next is free
// at the server too.
func (b *backend) Close() error {
	if b.closed != nil {
		defer b.closed()
	}
	b.closeJobs()
	wait := time.Duration(0)
	if !b.broken.Load() && b.idle() {
		wait = postgres.ExitWait
	}
	return postgres.Terminate(b.conn, wait)
}

// Broken reports that the connection must not be reused: its protocol
// state is unknown, it is not exactly idle with nothing pending (a
// reply in flight, an open transaction, unsynced messages, COPY), or its
// server is no longer the cluster's writer.
func (b *backend) Broken() bool {
	return b.broken.Load() || !b.idle() || proxy.Stale(b.route, b.writer, b.addr)
}

// write queues frames; flush sends them. Every frame to the backend goes
// through here, so the replies it is owed are counted (account).
func (b *backend) write(frame []byte) error {
	b.account(frame[0])
	_, err := b.bw.Write(frame)
	if err != nil {
		b.broken.Store(true)
	}
	return err
}

func (b *backend) flush() error { return b.flushed(b.bw.Flush()) }

// flushAwait is flush for frames whose reply the caller reads next: it
// returns once the reply begins to arrive (rawconn.AwaitTarget), sparing
// the read that would find nothing yet.
func (b *backend) flushAwait() error { return b.flushed(b.wt.FlushAwait(b.bw)) }

// flushed marks b broken when its flush failed, and returns err.
func (b *backend) flushed(err error) error {
	if err != nil {
		b.broken.Store(true)
	}
	return err
}

// exec runs sql with the simple protocol and reads to ReadyForQuery,
// returning the first row's text columns and the transaction status. Only
// for connections no relay goroutine reads from.
func (b *backend) exec(ctx context.Context, sql ...string) (row []string, status byte, err error) {
	res, err := b.execBatch(ctx, sql...)
	if err != nil {
		return nil, 0, err
	}
	return res.row, byte(b.txStatus.Load()), res.err
}

// execBatch sends the queries in one write and reads every reply; the
// error is a connection failure, res.err the first SQL error.
func (b *backend) execBatch(ctx context.Context, sql ...string) (res execResult, err error) {
	if dl, ok := ctx.Deadline(); ok {
		_ = b.conn.SetWriteDeadline(dl)
		defer func() { _ = b.conn.SetWriteDeadline(time.Time{}) }()
	}
	for _, q := range sql {
		if err := b.write(appendFrame(nil, 'Q', []byte(q), []byte{0})); err != nil {
			return res, err
		}
	}
	if err := b.flush(); err != nil {
		return res, err
	}
	err = b.drain(ctx, &res)
	return res, err
}

func decodeDataRow(b []byte) []string {
	if len(b) < 2 {
		return nil
	}
	n := int(binary.BigEndian.Uint16(b))
	b = b[2:]
	out := make([]string, 0, n)
	for i := 0; i < n && len(b) >= 4; i++ {
		l := int(int32(binary.BigEndian.Uint32(b)))
		b = b[4:]
		if l < 0 || l > len(b) {
			out = append(out, "")
			continue
		}
		out = append(out, string(b[:l]))
		b = b[l:]
	}
	return out
}

// decodeError turns an ErrorResponse body into a *pgconn.PgError.
func decodeError(body []byte) error {
	e := &pgconn.PgError{}
	for len(body) > 1 {
		t := body[0]
		v, rest, ok := cstring(body[1:])
		if !ok {
			break
		}
		switch t {
		case 'S':
			e.Severity = string(v)
		case 'C':
			e.Code = string(v)
		case 'M':
			e.Message = string(v)
		}
		body = rest
	}
	return e
}

// cancel sends a CancelRequest for this connection's running query and
// waits until the server closed the cancel connection, i.e. signalled the
// backend process.
func (b *backend) cancel(ctx context.Context) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", b.addr)
	if err != nil {
		return fmt.Errorf("cancel request: %w", err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	msg := binary.BigEndian.AppendUint32(nil, uint32(12+len(b.key)))
	msg = binary.BigEndian.AppendUint32(msg, 80877102)
	msg = binary.BigEndian.AppendUint32(msg, b.pid)
	msg = append(msg, b.key...)
	if _, err := c.Write(msg); err != nil {
		return fmt.Errorf("cancel request: %w", err)
	}
	_, _ = c.Read(make([]byte, 1)) // EOF once the postmaster has signalled
	return nil
}

// dialer opens backend connections for one cluster.
type dialer struct {
	base      *pgconn.Config
	addr      string
	writer    func() string // nil: always addr
	route     proxy.Route   // a read-only endpoint's choice of instance
	initQuery func() string // the proxy's current init_query

	mu     sync.Mutex // guards params
	params map[string]string
}

func newDialer(cl config.Cluster, writer func() string) (*dialer, error) {
	addr := cl.Address
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("cluster address %q: %w", addr, err)
	}
	cfg, err := postgres.ServerConfig(host, port, cl.TLS.Mode, cl.TLS.CAFile)
	if err != nil {
		return nil, fmt.Errorf("parse backend config: %w", err)
	}
	cfg.ConnectTimeout = 5 * time.Second
	return &dialer{base: cfg, addr: addr, writer: writer, initQuery: func() string { return cl.Proxy.InitQuery }}, nil
}

// dial logs in as login at the instance proxy.Target names (the one the
// pool routed the borrow to, else the writer), hijacks the connection and
// runs init_query. Network failures wrap proxy.ErrBackendDown.
func (d *dialer) dial(ctx context.Context, login proxy.Login) (*backend, error) {
	b, err := d.dialAt(ctx, login, proxy.Target(login.Instance, d.writer, d.addr))
	if err != nil {
		return nil, err
	}
	if b.route = d.route; b.route != nil {
		b.closed = b.route.Connected(b.addr)
	}
	return b, nil
}

func (d *dialer) dialAt(ctx context.Context, login proxy.Login, addr string) (*backend, error) {
	cfg := d.base.Copy()
	if addr != d.addr {
		postgres.PointAt(cfg, addr)
	}
	cfg.User, cfg.Password, cfg.Database = login.User, login.Password, login.Database
	pg, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			return nil, fmt.Errorf("connect backend: %w", pgErr)
		}
		return nil, fmt.Errorf("connect backend: %w: %w", proxy.ErrBackendDown, err)
	}
	// SyncConn stops pgconn's background reader, which would otherwise
	// steal bytes from the hijacked socket.
	if err := pg.SyncConn(ctx); err != nil {
		pg.Close(ctx)
		return nil, fmt.Errorf("sync backend: %w: %w", proxy.ErrBackendDown, err)
	}
	hc, err := pg.Hijack()
	if err != nil {
		pg.Close(ctx)
		return nil, fmt.Errorf("hijack backend: %w", err)
	}
	b := &backend{conn: hc.Conn, r: msgReader{br: framebuf.NewReader(hc.Conn, 32<<10)},
		pid: hc.PID, key: hc.SecretKey, addr: addr, writer: d.writer, params: map[string]string{}, stmts: newStmtLRU(stmtCacheSize),
		jobs: make(chan relayJob, pipelineDepth+1)}
	b.wt.Set(hc.Conn)
	b.bw = bufio.NewWriterSize(&b.wt, 32<<10)
	b.txStatus.Store('I')
	b.initQuery = d.initQuery
	d.mu.Lock()
	if d.params == nil {
		d.params = hc.ParameterStatuses
	}
	d.mu.Unlock()
	if q := b.initQuery(); q != "" {
		if _, _, err := b.exec(ctx, q); err != nil {
			_ = b.Close()
			return nil, fmt.Errorf("init_query: %w", err)
		}
	}
	return b, nil
}

// serverParams returns the ParameterStatus values of the first backend
// connection, or nil before any.
func (d *dialer) serverParams() map[string]string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.params
}

// stmtLRU is the set of proxy statement names prepared on one backend.
type stmtLRU struct {
	max   int
	order *list.List // front = most recent
	items map[string]*list.Element
}

func newStmtLRU(max int) *stmtLRU {
	return &stmtLRU{max: max, order: list.New(), items: map[string]*list.Element{}}
}

// has reports whether name is prepared and marks it used.
func (l *stmtLRU) has(name string) bool {
	e, ok := l.items[name]
	if ok {
		l.order.MoveToFront(e)
	}
	return ok
}

// add records name and returns the evicted name, if any.
func (l *stmtLRU) add(name string) (evicted string) {
	if e, ok := l.items[name]; ok {
		l.order.MoveToFront(e)
		return ""
	}
	l.items[name] = l.order.PushFront(name)
	if l.order.Len() > l.max {
		e := l.order.Back()
		l.order.Remove(e)
		evicted = e.Value.(string)
		delete(l.items, evicted)
	}
	return evicted
}

func (l *stmtLRU) remove(name string) {
	if e, ok := l.items[name]; ok {
		l.order.Remove(e)
		delete(l.items, name)
	}
}

func (l *stmtLRU) clear() {
	l.order.Init()
	l.items = map[string]*list.Element{}
}
