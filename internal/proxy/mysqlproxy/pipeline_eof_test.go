package mysqlproxy

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/mysqlwire"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// eofTable creates a table with three rows (k 0 to 2, v "v<id>.<k>")
// for each client id below clients.
func eofTable(t *testing.T, tp *testProxy, clients int) string {
	t.Helper()
	d := tp.direct(t)
	name := fmt.Sprintf("eof_t_%d", time.Now().UnixNano())
	mustExec(t, d, "CREATE TABLE "+name+" (id int, k int, v varchar(20))")
	t.Cleanup(func() { mustExec(t, d, "DROP TABLE "+name) })
	for id := range clients {
		mustExec(t, d, fmt.Sprintf("INSERT INTO %s VALUES (%d, 0, 'v%[2]d.0'), (%[2]d, 1, 'v%[2]d.1'), (%[2]d, 2, 'v%[2]d.2')", name, id))
	}
	return name
}

// Classic-EOF clients, and DEPRECATE_EOF ones as a control, run text
// and binary result sets (of rows, of none), errors and OK-only
// statements over two backends, where their units go out in pipelines:
// every reply is framed for its client's capabilities, down to the
// sequence ids and the status flags of each EOF, and carries that
// client's own values.
func TestServer_pipelineClassicEOF(t *testing.T) {
	tp := startProxy(t, proxyOpts{pool: 2})
	const clients = 8
	table := eofTable(t, tp, clients)
	rs := make([]*rawClient, clients)
	for id := range rs {
		rs[id] = dialRaw(t, tp, tp.addr, id%2 == 0, 0)
	}
	var wg sync.WaitGroup
	for id, r := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := eofClient(r, id, table, 72); err != nil {
				t.Errorf("client %d (classic %v): %v", id, r.classic, err)
			}
		}()
	}
	wg.Wait()
	if tp.srv.pipelines.Load() == 0 {
		t.Fatal("no pipeline formed")
	}
	t.Logf("%d pipelines carried %d units", tp.srv.pipelines.Load(), tp.srv.pipedUnits.Load())
	tp.waitIdle(t)
}

// eofStmts are a client's prepared statements.
type eofStmts struct{ rows, calc, fail uint32 }

func eofClient(r *rawClient, id int, table string, iters int) error {
	if res, err := r.query("DO 0"); err != nil || res.ok == nil {
		return fmt.Errorf("DO 0: %+v %v", res, err) // a session's first command never joins a pipeline
	}
	var st eofStmts
	var err error
	rowsSQL := "SELECT k, v FROM " + table + " WHERE id = ? AND k < 100 ORDER BY k"
	if st.rows, err = r.prepare(rowsSQL); err != nil {
		return err
	}
	if st.calc, err = r.prepare("SELECT ? * 1000 + ? AS n"); err != nil {
		return err
	}
	if st.fail, err = r.prepare("SELECT (SELECT 1 UNION SELECT ?) AS n"); err != nil {
		return err
	}
	v1 := fmt.Sprintf("v%d.1", id) // the row k = 1 as the client last updated it
	for k := range iters {
		if err := eofStep(r, id, k, table, st, &v1); err != nil {
			return fmt.Errorf("step %d: %w", k, err)
		}
	}
	return nil
}

// eofStep runs statement k of client id and checks its reply.
func eofStep(r *rawClient, id, k int, table string, st eofStmts, v1 *string) error {
	own := []string{fmt.Sprintf("[0 v%d.0]", id), fmt.Sprintf("[1 %s]", *v1), fmt.Sprintf("[2 v%d.2]", id)}
	n := fmt.Sprint(id*1000 + k)
	switch k % 9 {
	case 0:
		res, err := r.query(fmt.Sprintf("SELECT k, v FROM %s WHERE id = %d AND k < 100 ORDER BY k", table, id))
		return r.wantRows(res, err, own...)
	case 1:
		res, err := r.query(fmt.Sprintf("SELECT %d * 1000 + %d AS n UNION ALL SELECT 'c%d'", id, k, id))
		return r.wantRows(res, err, "["+n+"]", fmt.Sprintf("[c%d]", id))
	case 2:
		res, err := r.query(fmt.Sprintf("SELECT k FROM %s WHERE id = %d AND k < 0", table, id))
		return r.wantRows(res, err)
	case 3:
		res, err := r.query(fmt.Sprintf("SELECT * FROM eof_missing_%d", id))
		return wantErr(res, err, 1146, fmt.Sprintf("eof_missing_%d'", id))
	case 4:
		*v1 = fmt.Sprintf("u%d.%d", id, k)
		res, err := r.query(fmt.Sprintf("UPDATE %s SET v = '%s' WHERE id = %d AND k = 1", table, *v1, id))
		return wantOK(res, err)
	case 5:
		res, err := r.execute(st.rows, 0, int64(id))
		return r.wantRows(res, err, own...)
	case 6:
		res, err := r.execute(st.calc, 0, int64(id), int64(k))
		return r.wantRows(res, err, "["+n+"]")
	case 7:
		res, err := r.execute(st.fail, 0, int64(2))
		return wantErr(res, err, 1242, "")
	default:
		res, err := r.query(fmt.Sprintf("INSERT INTO %s VALUES (%d, %d, 'i')", table, id, 100+k))
		return wantOK(res, err)
	}
}

// wantErr checks that res is the ERR code whose message contains msg.
func wantErr(res *rawResult, err error, code uint16, msg string) error {
	if err != nil {
		return err
	}
	if res.err == nil || res.err.Code != code || !strings.Contains(res.err.Msg, msg) {
		return fmt.Errorf("%w: %+v, want error %d with %q", errRawReply, res, code, msg)
	}
	return nil
}

// wantOK checks that res is an OK for one affected row.
func wantOK(res *rawResult, err error) error {
	if err != nil {
		return err
	}
	if res.ok == nil || res.ok.AffectedRows != 1 {
		return fmt.Errorf("%w: %+v, want an OK for one row", errRawReply, res)
	}
	return endStatus(res.status)
}

// The EOF a classic client gets after the column definitions carries
// the session's flags, never those another statement left on the
// backend (no index used, a cursor, the last row sent); an execute that
// opens a cursor is answered with that EOF alone, flagging the cursor.
// The database itself answers the same way.
//
// The first row, read before that EOF goes out, may span frames.
func TestSession_classicEOFStatus(t *testing.T) {
	tp := startProxy(t, proxyOpts{pool: 1})
	table := eofTable(t, tp, 1)
	for _, addr := range []string{tp.db.Addr, tp.addr} {
		r := dialRaw(t, tp, addr, true, 0)
		res, err := r.query("SELECT k FROM " + table) // a full scan: SERVER_QUERY_NO_INDEX_USED
		if err != nil || res.status&mysqlwire.StatusNoIndexUsed == 0 {
			t.Fatalf("%s: full scan: %+v %v", addr, res, err)
		}
		res, err = r.query("SELECT 1")
		if err := r.wantRows(res, err, "[1]"); err != nil {
			t.Fatalf("%s: after a full scan: %v", addr, err)
		}
		const n = mysqlwire.MaxFrame - 2 // the first row after the EOF spans two frames
		res, err = r.query(fmt.Sprintf("SELECT REPEAT('z', %d) AS z, 2 AS n", n))
		if err := r.wantRows(res, err, fmt.Sprintf("[%s 2]", strings.Repeat("z", n))); err != nil {
			t.Fatalf("%s: a row of two frames: %.200v", addr, err)
		}
		id, err := r.prepare("SELECT ? AS x UNION ALL SELECT 2")
		if err != nil {
			t.Fatal(err)
		}
		res, err = r.execute(id, 1, int64(7))
		if err != nil || !res.cursor || len(res.rows) != 0 {
			t.Fatalf("%s: execute opening a cursor: %+v %v, want the column definitions and one EOF", addr, res, err)
		}
		if err := r.fetch(id, 10, res); err != nil || fmt.Sprint(res.rows) != "[[7] [2]]" || res.status&mysqlwire.StatusLastRowSent == 0 {
			t.Fatalf("%s: fetch: %+v %v", addr, res, err)
		}
		res, err = r.execute(id, 0, int64(8))
		if err := r.wantRows(res, err, "[8]", "[2]"); err != nil {
			t.Fatalf("%s: execute after a cursor: %v", addr, err)
		}
	}
}

// A classic client's unit pipelined behind another client's full scan
// gets an EOF after its column definitions without the scan's flags.
func TestServer_pipelineClassicEOFStatus(t *testing.T) {
	tp := startProxy(t, proxyOpts{pool: 1})
	table := eofTable(t, tp, 1)
	holder, lead, member := dialRaw(t, tp, tp.addr, false, 0), dialRaw(t, tp, tp.addr, false, 0), dialRaw(t, tp, tp.addr, true, 0)
	for _, r := range []*rawClient{holder, lead, member} {
		if res, err := r.query("DO 0"); err != nil || res.ok == nil {
			t.Fatalf("DO 0: %+v %v", res, err)
		}
	}
	if res, err := holder.query("BEGIN"); err != nil || res.ok == nil {
		t.Fatalf("BEGIN: %+v %v", res, err) // holds the only backend
	}
	type reply struct {
		res *rawResult
		err error
	}
	queue := func(r *rawClient, sql string, waiting int) chan reply {
		ch := make(chan reply, 1)
		go func() {
			res, err := r.query(sql)
			ch <- reply{res, err}
		}()
		testdb.Eventually(t, 5*time.Second, 5*time.Millisecond, "the client queued", func() bool { return tp.srv.PoolStats().Waiting == waiting })
		return ch
	}
	leadCh := queue(lead, "SELECT k FROM "+table+" ORDER BY k", 1)
	memberCh := queue(member, "SELECT 42", 2)
	if res, err := holder.query("COMMIT"); err != nil || res.ok == nil {
		t.Fatalf("COMMIT: %+v %v", res, err)
	}
	l, m := <-leadCh, <-memberCh
	if err := lead.wantRows(l.res, l.err, "[0]", "[1]", "[2]"); err != nil || l.res.status&mysqlwire.StatusNoIndexUsed == 0 {
		t.Fatalf("leading client: %+v %v, want a full scan", l.res, err)
	}
	if n := tp.srv.pipelines.Load(); n != 1 {
		t.Fatalf("%d pipelines, want 1", n)
	}
	if err := member.wantRows(m.res, m.err, "[42]"); err != nil {
		t.Fatalf("pipelined classic client: %v", err)
	}
}

// eofOracleQueries are run as COM_QUERY; T is the test table.
var eofOracleQueries = []string{
	"SELECT k, v, NULL AS z FROM {T} WHERE id = 0 ORDER BY k",
	"SELECT k FROM {T} WHERE k < 0",
	"SELECT 1/0 AS w", // a warning, counted in the EOF ending the rows
	"SELECT (SELECT 1 UNION SELECT 2) AS e",
	"SELEC 1",
	"UPDATE {T} SET v = v WHERE k = 1",
	"INSERT INTO {T} VALUES (1, 9, 'x')", // no statement reads id 1
	"SELECT 1 AS a; SELECT k FROM {T} WHERE k < 0; DO 1; SELECT 2 AS b",
	"SELECT 3 AS a; SELEC 4",
	"CALL {T}_p()", // two result sets and an OK
}

// eofOracleStmts are prepared and executed with the arguments after them.
var eofOracleStmts = []struct {
	sql  string
	args []any
}{
	{"SELECT ? AS a, k, v FROM {T} WHERE k <= ? ORDER BY k", []any{int64(7), int64(1)}},
	{"SELECT k FROM {T} WHERE k < ?", []any{int64(0)}},
	{"SELECT (SELECT 1 UNION SELECT ?) AS e", []any{int64(2)}},
	{"UPDATE {T} SET v = ? WHERE k = 2", []any{"v0.2"}}, // both runs see the same rows
}

// Byte for byte, a classic-EOF client and a DEPRECATE_EOF one get
// through the proxy the replies the database sends them directly
// (result sets of rows and of none, NULLs, warnings, errors before and
// after column definitions, OKs, multi-statements, CALL, binary rows,
// COM_FIELD_LIST), but for the EOF after column definitions, which
// carries only the session's flags through the proxy: those of the
// statement itself, the proxy cannot know before its rows.
func TestSession_classicEOFOracle(t *testing.T) {
	tp := startProxy(t, proxyOpts{pool: 1})
	table := eofTable(t, tp, 1)
	d := tp.direct(t)
	mustExec(t, d, "CREATE PROCEDURE "+table+"_p() BEGIN SELECT k FROM "+table+" WHERE id = 0 ORDER BY k; SELECT 5 AS f; END")
	t.Cleanup(func() { mustExec(t, d, "DROP PROCEDURE "+table+"_p") })
	for _, classic := range []bool{true, false} {
		var traces [2][][]byte
		for i, addr := range []string{tp.db.Addr, tp.addr} {
			r := dialRaw(t, tp, addr, classic, mysqlwire.CapMultiStatements)
			traces[i] = eofOracleRun(t, r, table)
		}
		direct, proxied := traces[0], traces[1]
		if len(direct) != len(proxied) {
			t.Fatalf("classic %v: %d packets through the proxy, %d from the database:\n%x\n%x", classic, len(proxied), len(direct), proxied, direct)
		}
		for i, want := range direct {
			if i > 0 && classic && len(want) == 5 && want[0] == mysqlwire.HdrEOF && isColumnDef(direct[i-1]) {
				st := binary.LittleEndian.Uint16(want[3:]) & sessionFlags
				want = mysqlwire.EOFPacket(0, st)
			}
			if !bytes.Equal(proxied[i], want) {
				t.Errorf("classic %v: packet %d is %x through the proxy, want %x", classic, i, proxied[i], want)
			}
		}
	}
}

// eofOracleRun runs the queries and statements on r and returns every
// packet of their replies (not those of the prepares: statement ids
// differ).
func eofOracleRun(t *testing.T, r *rawClient, table string) [][]byte {
	t.Helper()
	if _, err := r.query("DO 0"); err != nil {
		t.Fatal(err)
	}
	r.trace = [][]byte{}
	for _, q := range eofOracleQueries {
		sql := strings.ReplaceAll(q, "{T}", table)
		if err := r.pc.Command(mysqlwire.QueryCommand(sql)); err != nil {
			t.Fatal(err)
		}
		if _, err := r.readAll(false); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	// Replies the proxy makes itself, each after a full scan, whose
	// NO_INDEX_USED the server does not carry into the next command's reply.
	for _, cmd := range [][]byte{{mysqlwire.ComPing}, mysqlwire.SetOptionCommand(0)} {
		if err := r.pc.Command(mysqlwire.QueryCommand("SELECT COUNT(*) > 0 FROM " + table + " WHERE v = v")); err != nil {
			t.Fatal(err)
		}
		if _, err := r.readAll(false); err != nil {
			t.Fatal(err)
		}
		if err := r.pc.Command(cmd); err != nil {
			t.Fatal(err)
		}
		if _, err := r.packet(); err != nil {
			t.Fatalf("command %x: %v", cmd[0], err)
		}
	}
	for _, st := range eofOracleStmts {
		sql := strings.ReplaceAll(st.sql, "{T}", table)
		trace := r.trace
		r.trace = nil
		id, err := r.prepare(sql)
		r.trace = trace
		if err != nil {
			t.Fatalf("prepare %s: %v", sql, err)
		}
		if _, err := r.execute(id, 0, st.args...); err != nil {
			t.Fatalf("execute %s: %v", sql, err)
		}
	}
	if err := r.pc.Command(append(append([]byte{mysqlwire.ComFieldList}, table...), 0)); err != nil {
		t.Fatal(err)
	}
	for { // column definitions up to an EOF
		p, err := r.packet()
		if err != nil {
			t.Fatalf("COM_FIELD_LIST: %v", err)
		}
		if len(p) == 0 || !isColumnDef(p) {
			break
		}
	}
	if len(r.trace) < 40 {
		t.Fatalf("%d packets read: %x", len(r.trace), r.trace)
	}
	return r.trace
}

// isColumnDef reports whether p is a column definition (catalog "def").
func isColumnDef(p []byte) bool { return bytes.HasPrefix(p, []byte("\x03def")) }
