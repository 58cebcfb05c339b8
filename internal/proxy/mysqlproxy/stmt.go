package mysqlproxy

// Binary-protocol prepared statements without pinning: client statement
// ids map to SQL text; each backend prepares a text once, lazily, when a
// client that uses it borrows that backend.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_stmt_prepare.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_stmt_execute.html

import (
	"encoding/binary"
	"fmt"

	"github.com/sqlgate/sqlgate/internal/mysqlwire"
)

// maxStmtsPerBackend bounds the statements prepared on one backend; the
// least recently used is closed beyond it (server cap: max_prepared_stmt_count).
const maxStmtsPerBackend = 256

// clientStmt is a statement as one client sees it.
type clientStmt struct {
	key     string // cache key: schema, sql_mode and full SQL text
	sql     string
	text    []byte // sql, for the pin digest
	params  uint16
	columns uint16
	// types are the parameter types last bound (2 bytes each); re-sent on
	// every execute because the backend may never have seen them.
	types []byte
	// usesLastInsertID: the text calls LAST_INSERT_ID().
	usesLastInsertID bool
	// routine, sessionCmd: see scanResult.
	routine, sessionCmd bool
	// pipe: executes may join a pipeline (scanResult.pipeable).
	pipe bool
}

// backendStmt is a statement prepared on one backend.
type backendStmt struct {
	id      uint32
	params  uint16
	columns uint16
	meta    [][]byte // parameter then column definitions
	used    uint64
}

// stmtCache is a backend's prepared statements by key. Keys are full text,
// never a hash (Odyssey#1345).
type stmtCache struct {
	byKey map[string]*backendStmt
	tick  uint64
}

func newStmtCache() *stmtCache { return &stmtCache{byKey: map[string]*backendStmt{}} }

func (c *stmtCache) get(key string) *backendStmt {
	st := c.byKey[key]
	if st != nil {
		c.tick++
		st.used = c.tick
	}
	return st
}

func (c *stmtCache) clear() { clear(c.byKey) }

// victim returns the least recently used statement when the cache is full.
func (c *stmtCache) victim() (string, *backendStmt) {
	if len(c.byKey) < maxStmtsPerBackend {
		return "", nil
	}
	var vk string
	var v *backendStmt
	for k, st := range c.byKey {
		if v == nil || st.used < v.used {
			vk, v = k, st
		}
	}
	return vk, v
}

// prepare returns the backend statement for key, preparing sql when this
// backend has not seen it. A statement error is returned as *Error with
// the connection intact.
func (b *backendConn) prepare(key, sql string) (*backendStmt, error) {
	if st := b.stmts.get(key); st != nil {
		return st, nil
	}
	b.pending = true
	st, err := b.prepareNew(key, sql)
	b.pending = false
	return st, err
}

func (b *backendConn) prepareNew(key, sql string) (*backendStmt, error) {
	if k, v := b.stmts.victim(); v != nil {
		delete(b.stmts.byKey, k)
		if err := b.pc.QueueCommand(binary.LittleEndian.AppendUint32([]byte{mysqlwire.ComStmtClose}, v.id)); err != nil {
			return nil, b.fail(err)
		}
	}
	if err := b.pc.Command(append([]byte{mysqlwire.ComStmtPrepare}, sql...)); err != nil {
		return nil, b.fail(err)
	}
	p, err := b.pc.ReadPacket()
	if err != nil {
		return nil, b.fail(err)
	}
	if len(p) > 0 && p[0] == mysqlwire.HdrERR {
		return nil, parseErr(p)
	}
	ok, params, cols, err := mysqlwire.ParsePrepareOK(p)
	if err != nil {
		return nil, b.fail(err)
	}
	st := &backendStmt{id: ok.ID, params: uint16(params), columns: uint16(cols)}
	for range int(st.params) + int(st.columns) {
		m, err := b.pc.ReadPacket()
		if err != nil {
			return nil, b.fail(err)
		}
		st.meta = append(st.meta, append([]byte(nil), m...))
	}
	b.stmts.tick++
	st.used = b.stmts.tick
	b.stmts.byKey[key] = st
	return st, nil
}

// prepareOK encodes COM_STMT_PREPARE_OK for a client.
func prepareOK(id uint32, st *backendStmt) []byte {
	b := make([]byte, 0, 12)
	b = append(b, mysqlwire.HdrOK)
	b = binary.LittleEndian.AppendUint32(b, id)
	b = binary.LittleEndian.AppendUint16(b, st.columns)
	b = binary.LittleEndian.AppendUint16(b, st.params)
	return append(b, 0, 0, 0)
}

// stmtID reads the statement id of a COM_STMT_* packet.
func stmtID(p []byte) (uint32, bool) {
	if len(p) < 5 {
		return 0, false
	}
	return binary.LittleEndian.Uint32(p[1:]), true
}

// withStmtID returns a copy of a COM_STMT_* packet for backend id.
func withStmtID(p []byte, id uint32) []byte {
	out := append([]byte(nil), p...)
	binary.LittleEndian.PutUint32(out[1:], id)
	return out
}

// executeFlags are COM_STMT_EXECUTE's cursor flags.
func executeFlags(p []byte) byte {
	if len(p) < 6 {
		return 0
	}
	return p[5]
}

// rewriteExecute returns COM_STMT_EXECUTE p for backend statement id,
// always with the parameter types bound (new_params_bound_flag=1): the
// backend may have prepared the statement for another client, or never
// seen an execute that bound them. It records newly bound types in cs. p
// is rewritten in place; when the types must be inserted the result is
// built in *scratch.
func rewriteExecute(p []byte, id uint32, cs *clientStmt, scratch *[]byte) ([]byte, error) {
	const head = 1 + 4 + 1 + 4
	if len(p) < head {
		return nil, fmt.Errorf("COM_STMT_EXECUTE: %w", mysqlwire.ErrMalformed)
	}
	binary.LittleEndian.PutUint32(p[1:], id)
	n := int(cs.params)
	if n == 0 {
		return p, nil
	}
	nullLen := (n + 7) / 8
	if len(p) < head+nullLen+1 {
		return nil, fmt.Errorf("COM_STMT_EXECUTE: %w", mysqlwire.ErrMalformed)
	}
	flagAt := head + nullLen
	if p[flagAt] == 1 {
		if len(p) < flagAt+1+2*n {
			return nil, fmt.Errorf("COM_STMT_EXECUTE: %w", mysqlwire.ErrMalformed)
		}
		cs.types = append(cs.types[:0], p[flagAt+1:flagAt+1+2*n]...)
		return p, nil
	}
	if cs.types == nil {
		return p, nil // the server will reject it as it would without a proxy
	}
	re := append((*scratch)[:0], p[:flagAt]...)
	re = append(re, 1)
	re = append(re, cs.types...)
	re = append(re, p[flagAt+1:]...)
	if cap(re) <= 64<<10 {
		*scratch = re
	}
	return re, nil
}
