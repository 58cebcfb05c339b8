package mysqlproxy

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/mysqlwire"
)

// rawClient speaks the client protocol itself, so a test sees every byte
// the proxy sends. A classic one negotiates neither CLIENT_DEPRECATE_EOF
// nor CLIENT_SESSION_TRACK (as pymysql and older connectors); every
// frame's sequence id is checked, so a packet too many or too few in a
// reply shows as the next reply out of sequence.
type rawClient struct {
	cl      *mysqlwire.Client
	pc      *mysqlwire.PacketConn
	classic bool
	trace   [][]byte // every packet read, when not nil
}

// packet reads the next packet, recording it in trace.
func (r *rawClient) packet() ([]byte, error) {
	p, err := r.pc.ReadPacket()
	if err == nil && r.trace != nil {
		r.trace = append(r.trace, append([]byte(nil), p...))
	}
	return p, err
}

// dialRaw logs in to addr (the proxy or the database) as the test user,
// asking for extra capabilities (CLIENT_MULTI_STATEMENTS) too.
func dialRaw(t testing.TB, tp *testProxy, addr string, classic bool, extra uint32) *rawClient {
	t.Helper()
	cl, err := mysqlwire.Dial(context.Background(), mysqlwire.Options{Address: addr, User: tp.db.User,
		Password: tp.db.Passwd, Database: tp.db.DBName, Timeout: 5 * time.Second, ExtraCaps: extra,
		OnGreeting: func(g *mysqlwire.Greeting) {
			if classic {
				g.Caps &^= mysqlwire.CapDeprecateEOF | mysqlwire.CapSessionTrack
			}
		}})
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	if got := cl.Caps()&mysqlwire.CapDeprecateEOF == 0; got != classic {
		t.Fatalf("classic EOF negotiated: %v, want %v", got, classic)
	}
	r := &rawClient{cl: cl, pc: cl.Packets(), classic: classic}
	r.pc.StrictSeq = true
	return r
}

// rawResult is a reply to COM_QUERY or COM_STMT_EXECUTE as read.
type rawResult struct {
	err      *mysqlwire.Error
	ok       *mysqlwire.OK // a reply of one OK
	cols     []mysqlwire.Column
	metaEOF  uint16 // status of the EOF after the column definitions (classic)
	cursor   bool   // that EOF ended the reply: a cursor was opened
	rows     [][]string
	status   uint16 // of the OK or EOF ending the reply
	warnings uint16
}

// query runs sql as COM_QUERY.
func (r *rawClient) query(sql string) (*rawResult, error) {
	if err := r.pc.Command(mysqlwire.QueryCommand(sql)); err != nil {
		return nil, err
	}
	return r.read(false)
}

// execute runs a prepared statement with flags (1: open a read-only
// cursor) binding args.
func (r *rawClient) execute(id uint32, flags byte, args ...any) (*rawResult, error) {
	cmd, err := mysqlwire.AppendExecute(nil, id, args)
	if err != nil {
		return nil, err
	}
	cmd[5] = flags
	if err := r.pc.Command(cmd); err != nil {
		return nil, err
	}
	return r.read(true)
}

// fetch reads up to n rows of an open cursor (COM_STMT_FETCH) into res.
func (r *rawClient) fetch(id uint32, n uint32, res *rawResult) error {
	cmd := binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32([]byte{mysqlwire.ComStmtFetch}, id), n)
	if err := r.pc.Command(cmd); err != nil {
		return err
	}
	return r.readRows(res, true)
}

// prepare runs COM_STMT_PREPARE; the parameter and column definitions
// must each be followed by an EOF for a classic client, and only then.
func (r *rawClient) prepare(sql string) (uint32, error) {
	if err := r.pc.Command(append([]byte{mysqlwire.ComStmtPrepare}, sql...)); err != nil {
		return 0, err
	}
	p, err := r.packet()
	if err != nil {
		return 0, err
	}
	if len(p) > 0 && p[0] == mysqlwire.HdrERR {
		return 0, mysqlwire.ParseErr(p)
	}
	st, params, cols, err := mysqlwire.ParsePrepareOK(p)
	if err != nil {
		return 0, err
	}
	for _, n := range []int{params, cols} {
		var status uint16
		if _, err := r.readMeta(n, &status); err != nil {
			return 0, fmt.Errorf("prepare %q: %w", sql, err)
		}
		if r.classic && n > 0 && status != mysqlwire.StatusAutocommit {
			return 0, fmt.Errorf("%w: prepare %q: status 0x%x in an EOF, want 0x%x", errRawReply, sql, status, mysqlwire.StatusAutocommit)
		}
	}
	return st.ID, nil
}

// readMeta reads n column definitions and, for a classic client when
// n > 0, the EOF after them (its status in *status).
func (r *rawClient) readMeta(n int, status *uint16) ([]mysqlwire.Column, error) {
	cols := make([]mysqlwire.Column, n)
	for i := range cols {
		p, err := r.packet()
		if err != nil {
			return nil, err
		}
		if cols[i], err = mysqlwire.ParseColumn(p); err != nil {
			return nil, fmt.Errorf("column definition %x: %w", p, err)
		}
	}
	if n == 0 || !r.classic {
		return cols, nil
	}
	p, err := r.packet()
	if err != nil {
		return nil, err
	}
	if len(p) != 5 || p[0] != mysqlwire.HdrEOF {
		return nil, fmt.Errorf("%w: %x after the column definitions, want an EOF", mysqlwire.ErrMalformed, p)
	}
	_, *status, err = mysqlwire.ParseEOF(p)
	return cols, err
}

// readAll reads the replies to a command up to the last result.
func (r *rawClient) readAll(binaryRows bool) ([]*rawResult, error) {
	var all []*rawResult
	for {
		res, err := r.read(binaryRows)
		if err != nil {
			return all, err
		}
		all = append(all, res)
		if res.err != nil || res.cursor || res.status&mysqlwire.StatusMoreResults == 0 {
			return all, nil
		}
	}
}

// read reads one reply: ERR, OK, or one result set.
func (r *rawClient) read(binaryRows bool) (*rawResult, error) {
	p, err := r.packet()
	if err != nil {
		return nil, err
	}
	res := &rawResult{}
	switch {
	case len(p) == 0:
		return nil, mysqlwire.ErrMalformed
	case p[0] == mysqlwire.HdrERR:
		res.err = mysqlwire.ParseErr(p)
		return res, nil
	case p[0] == mysqlwire.HdrOK:
		ok, err := mysqlwire.ParseOK(p, !r.classic)
		if err != nil {
			return nil, err
		}
		res.ok, res.status = &ok, ok.Status
		return res, nil
	}
	n, _, ok := mysqlwire.ReadLenenc(p)
	if !ok || n == 0 {
		return nil, fmt.Errorf("%w: reply starts %x", mysqlwire.ErrMalformed, p)
	}
	if res.cols, err = r.readMeta(int(n), &res.metaEOF); err != nil {
		return nil, err
	}
	if r.classic && res.metaEOF&mysqlwire.StatusCursorExists != 0 {
		res.cursor, res.status = true, res.metaEOF
		return res, nil // the rows come by COM_STMT_FETCH
	}
	return res, r.readRows(res, binaryRows)
}

// readRows reads rows up to the EOF (classic) or OK with header 0xfe
// ending them, or an ERR.
func (r *rawClient) readRows(res *rawResult, binaryRows bool) error {
	for {
		p, err := r.packet()
		if err != nil {
			return err
		}
		switch {
		case len(p) > 0 && p[0] == mysqlwire.HdrERR:
			res.err = mysqlwire.ParseErr(p)
			return nil
		case mysqlwire.IsEOF(p, false) && r.classic:
			if len(p) != 5 {
				return fmt.Errorf("%w: rows end with %x, want an EOF", mysqlwire.ErrMalformed, p)
			}
			res.warnings, res.status, err = mysqlwire.ParseEOF(p)
			return err
		case mysqlwire.IsEOF(p, false):
			ok, err := mysqlwire.ParseOK(p, true)
			if err != nil || len(p) < 7 {
				return fmt.Errorf("%w: rows end with %x, want an OK", mysqlwire.ErrMalformed, p)
			}
			res.warnings, res.status = ok.Warnings, ok.Status
			return nil
		}
		row, err := decodeRow(p, res.cols, binaryRows)
		if err != nil {
			return err
		}
		res.rows = append(res.rows, row)
	}
}

func decodeRow(p []byte, cols []mysqlwire.Column, binaryRows bool) ([]string, error) {
	dst := make([][]byte, len(cols))
	var err error
	if binaryRows {
		_, err = mysqlwire.ParseBinaryRow(p, cols, dst, nil)
	} else {
		err = mysqlwire.ParseTextRow(p, dst)
	}
	if err != nil {
		return nil, fmt.Errorf("row %x: %w", p, err)
	}
	row := make([]string, len(dst))
	for i, v := range dst {
		row[i] = string(v)
	}
	return row, nil
}

var errRawReply = errors.New("unexpected reply")

// wantRows checks that res is a result set of exactly rows, ended in
// autocommit mode with no transaction, cursor or further result open,
// and for a classic client that the EOF after the column definitions
// carries only the session's own flags (autocommit): not the flags of
// another statement, which the proxy has seen last on the backend, nor
// of this one, which it cannot know before the rows.
func (r *rawClient) wantRows(res *rawResult, err error, rows ...string) error {
	if err != nil {
		return err
	}
	if res.err != nil || res.ok != nil || res.cursor {
		return fmt.Errorf("%w: %+v, want rows %q", errRawReply, res, rows)
	}
	if r.classic && res.metaEOF != mysqlwire.StatusAutocommit {
		return fmt.Errorf("%w: status 0x%x in the EOF after the column definitions, want 0x%x", errRawReply, res.metaEOF, mysqlwire.StatusAutocommit)
	}
	if err := endStatus(res.status); err != nil {
		return err
	}
	got := make([]string, len(res.rows))
	for i, row := range res.rows {
		got[i] = fmt.Sprint(row)
	}
	if fmt.Sprint(got) != fmt.Sprint(rows) {
		return fmt.Errorf("%w: rows %q, want %q", errRawReply, got, rows)
	}
	return nil
}

// endStatus checks the status ending an autocommit statement's reply.
func endStatus(st uint16) error {
	if st&mysqlwire.StatusAutocommit == 0 || st&(mysqlwire.StatusInTrans|mysqlwire.StatusMoreResults|mysqlwire.StatusCursorExists) != 0 {
		return fmt.Errorf("%w: status 0x%x ends the reply", errRawReply, st)
	}
	return nil
}
