package mysql

import (
	"testing"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// gbkPayload is UTF-8 "丁' OR 1=1 -- ": E4 B8 81 27 …. Escaped with a
// backslash and read as GBK, 0x81 swallows the backslash (81 5C is one GBK
// character) and the quote ends the literal.
const gbkPayload = "丁' OR 1=1 -- "

// gbkTable creates a table of three rows none of which is gbkPayload.
func gbkTable(t *testing.T, c *Conn) string {
	t.Helper()
	tbl := table(t, c, "gbk")
	mustExec(t, c, "CREATE TABLE "+tbl+" (name VARCHAR(50) CHARACTER SET utf8mb4)")
	mustExec(t, c, "INSERT INTO "+tbl+" VALUES ('a'), ('b'), ('c')")
	return tbl
}

// TestGBKInjection_AttackIsReal proves the payload injects on this server
// when written as a backslash-escaped literal in a GBK session: the guard
// the other tests check is needed.
func TestGBKInjection_AttackIsReal(t *testing.T) {
	c := connect(t)
	tbl := gbkTable(t, c)
	mustExec(t, c, "SET NAMES gbk")
	sql := "SELECT COUNT(*) FROM " + tbl + " WHERE name = ?"
	st := scanStatement(sql, false, nil)
	q := string(interpolate(nil, sql, st.markers, []arg{{1, gbkPayload}}, quoteBackslash))
	res, err := c.run(t.Context(), q, nil, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if n := res.Rows[0][0].Long; n != 3 {
		t.Fatalf("quoted literal in a GBK session matched %d rows; the attack this guards against did not work", n)
	}
}

func countPayload(t *testing.T, c *Conn, tbl string) int64 {
	t.Helper()
	res := mustExec(t, c, "SELECT COUNT(*) FROM "+tbl+" WHERE name = :s", engine.Param{Name: "s", Value: engine.String(gbkPayload)})
	return res.Rows[0][0].Long
}

// storedHex inserts the payload as a parameter and returns HEX() of what
// was stored.
func storedHex(t *testing.T, c *Conn, tbl string) string {
	t.Helper()
	mustExec(t, c, "INSERT INTO "+tbl+" VALUES (:s)", engine.Param{Name: "s", Value: engine.String(gbkPayload)})
	res := mustExec(t, c, "SELECT HEX(name) FROM "+tbl+" WHERE name NOT IN ('a', 'b', 'c')")
	if len(res.Rows) != 1 {
		t.Fatalf("stored rows = %v", res.Rows)
	}
	mustExec(t, c, "DELETE FROM "+tbl+" WHERE name NOT IN ('a', 'b', 'c')")
	return res.Rows[0][0].String
}

const payloadHex = "E4B88127204F5220313D31202D2D20"

func TestGBKInjection_SameSession(t *testing.T) {
	c := connect(t)
	tbl := gbkTable(t, c)
	mustExec(t, c, "SET NAMES gbk")
	if n := countPayload(t, c, tbl); n != 0 {
		t.Fatalf("parameter matched %d rows after SET NAMES gbk: injected", n)
	}
	if h := storedHex(t, c, tbl); h != payloadHex {
		t.Fatalf("stored %s, want %s", h, payloadHex)
	}
}

func TestGBKInjection_InTransaction(t *testing.T) {
	c := connect(t)
	tbl := gbkTable(t, c)
	if err := c.Begin(t.Context()); err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, "SET NAMES gbk")
	if n := countPayload(t, c, tbl); n != 0 {
		t.Fatalf("parameter matched %d rows after SET NAMES gbk in a transaction: injected", n)
	}
	if h := storedHex(t, c, tbl); h != payloadHex {
		t.Fatalf("stored %s, want %s", h, payloadHex)
	}
	if err := c.Rollback(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestGBKInjection_AcrossReset(t *testing.T) {
	c := connect(t)
	tbl := gbkTable(t, c)
	mustExec(t, c, "SET NAMES gbk")
	if err := c.Reset(t.Context()); err != nil {
		t.Fatal(err)
	}
	if c.literalMode(false) != quoteBackslash {
		t.Fatal("a reset session does not use plain literals again")
	}
	res := mustExec(t, c, "SELECT @@character_set_client, @@character_set_connection, @@character_set_results")
	for i, v := range res.Rows[0] {
		if v.String != "utf8mb4" {
			t.Fatalf("character set %d after reset = %q", i, v.String)
		}
	}
	if n := countPayload(t, c, tbl); n != 0 {
		t.Fatalf("parameter matched %d rows after a reset: injected", n)
	}
	if h := storedHex(t, c, tbl); h != payloadHex {
		t.Fatalf("stored %s, want %s", h, payloadHex)
	}
}

// TestLiteralModes checks the three literal spellings round-trip through
// the server unchanged, for every byte value.
func TestLiteralModes(t *testing.T) {
	c := connect(t)
	var all []byte
	for i := range 256 {
		all = append(all, byte(i))
	}
	text := "x'\"\\\x00\n\r\x1a丁' -- ?"
	for _, mode := range []literalMode{quoteBackslash, quoteDouble, quoteHex} {
		if mode == quoteDouble {
			mustExec(t, c, "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')")
		}
		sql := "SELECT ?, ?, ?"
		st := scanStatement(sql, mode == quoteDouble, nil)
		q := string(interpolate(nil, sql, st.markers, []arg{{1, text}, {2, all}, {3, []byte{}}}, mode))
		res, err := c.run(t.Context(), q, nil, 0, false)
		if err != nil {
			t.Fatalf("mode %d: %v\n%q", mode, err, q)
		}
		row := res.Rows[0]
		if row[0].String != text || string(row[1].Blob) != string(all) || row[2].Kind != engine.KindBlob || len(row[2].Blob) != 0 {
			t.Fatalf("mode %d: %+v", mode, row)
		}
	}
}

// TestLiteralModeFollowsSettings: state that cannot change how a literal
// is read (a generated id) keeps quoted literals; a SET switches to hex.
func TestLiteralModeFollowsSettings(t *testing.T) {
	c := connect(t)
	tbl := table(t, c, "litmode")
	mustExec(t, c, "CREATE TABLE "+tbl+" (id INT AUTO_INCREMENT PRIMARY KEY, s VARCHAR(10))")
	mustExec(t, c, "INSERT INTO "+tbl+" (s) VALUES (:s)", engine.Param{Name: "s", Value: engine.String("x")})
	if !c.Dirty() || c.literalMode(false) != quoteBackslash {
		t.Fatalf("after an auto-increment insert: dirty %v, mode %d", c.Dirty(), c.literalMode(false))
	}
	mustExec(t, c, "SET sql_mode = 'ANSI'")
	if c.literalMode(false) != quoteHex {
		t.Fatalf("after SET: mode %d", c.literalMode(false))
	}
}
