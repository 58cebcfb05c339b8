package mysqlproxy

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/sqlgate/sqlgate/internal/mysqlwire"
	"github.com/sqlgate/sqlgate/internal/proxy"
	"github.com/sqlgate/sqlgate/internal/proxy/proxytest"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// TestSession_Protocol: multi-statements, 16 MiB packet splits,
// LOAD DATA LOCAL, and clients with and without DEPRECATE_EOF.
func TestSession_Protocol(t *testing.T) {
	tp := startProxy(t, proxyOpts{pool: 2})
	t.Run("multi statements", func(t *testing.T) {
		db := tp.open(t, "multiStatements=true")
		rows, err := db.Query("SELECT 1; SELECT 2, 3; DO 1")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		sets := 0
		for {
			for rows.Next() {
			}
			sets++
			if !rows.NextResultSet() {
				break
			}
		}
		if err := rows.Err(); err != nil || sets < 2 {
			t.Fatalf("result sets %d, err %v", sets, err)
		}
	})
	t.Run("multi statements off", func(t *testing.T) {
		db := tp.open(t, "")
		if _, err := db.Exec("SELECT 1; SELECT 2"); mysqlErrNo(err) != 1064 {
			t.Fatalf("multi-statement without CLIENT_MULTI_STATEMENTS: %v, want 1064", err)
		}
	})
	t.Run("16 MiB split", func(t *testing.T) {
		db := tp.open(t, "")
		var s string
		const n = mysqlwire.MaxFrame - 2 // with its 4-byte length prefix the row spans two frames
		if err := db.QueryRow(fmt.Sprintf("SELECT REPEAT('z', %d)", n)).Scan(&s); err != nil {
			t.Fatal(err)
		}
		if len(s) != n || strings.Trim(s, "z") != "" {
			t.Fatalf("got %d bytes", len(s))
		}
		if got := queryString(t, db, "SELECT 'after'"); got != "after" {
			t.Fatalf("stream out of sync after a split row: %q", got)
		}
	})
	t.Run("load data local refused", func(t *testing.T) {
		db := tp.open(t, "allowAllFiles=true")
		mustExec(t, db, "CREATE TABLE IF NOT EXISTS loadme (v text)")
		_, err := db.Exec("LOAD DATA LOCAL INFILE '/etc/hostname' INTO TABLE loadme")
		if err == nil {
			t.Fatal("LOAD DATA LOCAL succeeded")
		}
		if got := queryString(t, db, "SELECT 5"); got != "5" {
			t.Fatalf("session unusable after refused LOAD DATA LOCAL: %q", got)
		}
	})
	t.Run("mariadb cli", func(t *testing.T) {
		_, err := exec.LookPath("mariadb")
		testdb.NeedTool(t, err == nil, "the mariadb client")
		out, err := exec.Command("mariadb", "-h127.0.0.1", "-P"+port(tp.addr), "-u"+tp.db.User, "-p"+tp.db.Passwd,
			"--batch", "--skip-column-names", tp.db.DBName, "-e",
			"SELECT 40+2; SET NAMES latin1; SELECT @@character_set_client; USE mysql; SELECT DATABASE(); SHOW TABLES LIKE 'user'").CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if got, want := strings.Fields(string(out)), []string{"42", "latin1", "mysql", "user"}; strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("got %q, want %q", got, want)
		}
		token := proxytest.Token(tp.db.User) // an IAM token as the password
		out, err = exec.Command("mariadb", "-h127.0.0.1", "-P"+port(tp.addr), "-u"+tp.db.User, "-p"+token,
			"--ssl", "--batch", "--skip-column-names", "-e", "SELECT CURRENT_USER() IS NOT NULL").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "1" {
			t.Fatalf("IAM token through the cli: %v: %s", err, out)
		}
	})
	t.Run("pymysql", func(t *testing.T) {
		testdb.NeedTool(t, exec.Command("/usr/bin/python3", "-c", "import pymysql").Run() == nil, "pymysql (python3-pymysql)")
		// pymysql negotiates neither DEPRECATE_EOF nor SESSION_TRACK.
		py := `import pymysql, sys
c = pymysql.connect(host="127.0.0.1", port=int(sys.argv[1]), user=sys.argv[2], password=sys.argv[3], database=sys.argv[4])
cur = c.cursor()
cur.execute("CREATE TABLE IF NOT EXISTS pyt (id int auto_increment primary key, v text)")
cur.execute("INSERT INTO pyt (v) VALUES (%s)", ("x",))
c.commit()
cur.execute("SELECT v FROM pyt WHERE id = %s", (cur.lastrowid,))
print(cur.fetchone()[0], cur.rowcount)
c.close()
`
		out, err := exec.Command("/usr/bin/python3", "-c", py, port(tp.addr), tp.db.User, tp.db.Passwd, tp.db.DBName).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "x 1" {
			t.Fatalf("%v: %s", err, out)
		}
	})
	tp.waitIdle(t)
}

func port(addr string) string { return addr[strings.LastIndexByte(addr, ':')+1:] }

// TestSession_ChangeUserAndReset drives COM_CHANGE_USER and
// COM_RESET_CONNECTION with the proxy's own client half.
func TestSession_ChangeUserAndReset(t *testing.T) {
	tp := startProxy(t, proxyOpts{pool: 1})
	d := &dialer{addr: tp.addr, defaultDB: tp.db.DBName, timeout: 5e9, initQuery: func() string { return "" }}
	login := proxy.Login{User: tp.db.User, Password: tp.db.Passwd}
	c, err := d.open(context.Background(), login, d.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.exec("SET @v = 1"); err != nil { // pins
		t.Fatal(err)
	}
	if err := c.simple([]byte{mysqlwire.ComResetConnection}); err != nil {
		t.Fatal(err)
	}
	if rows, err := c.query("SELECT @v IS NULL, DATABASE()"); err != nil || rows[0][0] != "1" || rows[0][1] != tp.db.DBName {
		t.Fatalf("after COM_RESET_CONNECTION: %v %v", rows, err)
	}
	// COM_CHANGE_USER with a native scramble of the original greeting.
	if err := c.cl.ChangeUser(login.User, login.Password, "mysql"); err != nil {
		t.Fatalf("COM_CHANGE_USER: %v", err)
	}
	if rows, err := c.query("SELECT DATABASE()"); err != nil || rows[0][0] != "mysql" {
		t.Fatalf("after COM_CHANGE_USER: %v %v", rows, err)
	}
	// An unknown user is asked for a cleartext password (it might hold an
	// IAM token) exactly as a known user with a wrong scramble, then
	// refused: the exchange does not tell which users exist.
	bad := append([]byte{mysqlwire.ComChangeUser}, "nobody\x00\x00\x00"...)
	if err := c.pc.Command(bad); err != nil {
		t.Fatal(err)
	}
	if p, err := c.pc.ReadPacket(); err != nil || len(p) == 0 || p[0] != mysqlwire.HdrEOF {
		t.Fatalf("COM_CHANGE_USER to an unknown user: %x %v, want an auth switch", p, err)
	}
	if err := c.pc.Send([]byte("wrong\x00")); err != nil {
		t.Fatal(err)
	}
	if p, err := c.pc.ReadPacket(); err != nil || len(p) == 0 || p[0] != mysqlwire.HdrERR || !strings.Contains(parseErr(p).Error(), "1045") {
		t.Fatalf("COM_CHANGE_USER to an unknown user: %x %v, want 1045", p, err)
	}
}
