package mysqlproxy

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/mysqlwire"
)

// TestSession_StateLeak: client A changes session state, client B
// uses the same single backend connection and must never observe it,
// while A's tracked state survives across its statements.
func TestSession_StateLeak(t *testing.T) {
	tp := startProxy(t, proxyOpts{pool: 1, borrowTimeout: 5 * time.Second})
	db := tp.open(t, "")
	db.SetMaxIdleConns(0)
	mustExec(t, tp.direct(t), "CREATE TABLE IF NOT EXISTS leak_ai (id int auto_increment primary key, v int)")
	mustExec(t, tp.direct(t), "CREATE TABLE IF NOT EXISTS leak_lock (id int)")

	tracked := []struct {
		name, set, check, want string
	}{
		{"sql_mode", "SET SESSION sql_mode='ANSI_QUOTES'", "SELECT @@sql_mode", "ANSI_QUOTES"},
		{"time_zone", "SET time_zone='+05:00'", "SELECT @@time_zone", "+05:00"},
		{"use", "USE mysql", "SELECT DATABASE()", "mysql"},
		{"names", "SET NAMES latin1", "SELECT @@character_set_client", "latin1"},
		{"autocommit", "SET autocommit=0", "SELECT @@autocommit", "0"},
		{"isolation", "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", "SELECT @@tx_isolation", "READ-COMMITTED"},
	}
	for _, tc := range tracked {
		t.Run(tc.name, func(t *testing.T) {
			a, b := tp.conn(t, db), tp.conn(t, db)
			wantB := queryString(t, b, tc.check)
			mustExec(t, a, tc.set)
			if got := queryString(t, b, tc.check); got != wantB {
				t.Fatalf("B sees %q after A's %s, want %q", got, tc.set, wantB)
			}
			if got := queryString(t, a, tc.check); got != tc.want {
				t.Fatalf("A sees %q, want its own %q", got, tc.want)
			}
			mustExec(t, a, "ROLLBACK") // autocommit=0 opened one
			if got := queryString(t, b, tc.check); got != wantB {
				t.Fatalf("B sees %q the second time, want %q", got, wantB)
			}
		})
	}
	t.Run("last_insert_id", func(t *testing.T) {
		a, b := tp.conn(t, db), tp.conn(t, db)
		res := mustExec(t, a, "INSERT INTO leak_ai (v) VALUES (1)")
		id, _ := res.LastInsertId()
		if got := queryString(t, b, "SELECT LAST_INSERT_ID()"); got != "0" {
			t.Fatalf("B sees LAST_INSERT_ID() = %s", got)
		}
		if got := queryString(t, a, "SELECT LAST_INSERT_ID()"); got != itoa(id) {
			t.Fatalf("A sees LAST_INSERT_ID() = %s, want %d", got, id)
		}
	})

	pinned := []struct {
		name, set, check, want string
	}{
		{"user_variable", "SET @u = 42", "SELECT @u", ""},
		{"temporary_table", "CREATE TEMPORARY TABLE leak_tmp (id int)", "SELECT COUNT(*) FROM information_schema.tables WHERE 0", "0"},
		{"prepare", "PREPARE leak_p FROM 'SELECT 1'", "SELECT 1", "1"},
		{"get_lock", "SELECT GET_LOCK('leak_k', 1)", "SELECT IS_FREE_LOCK('leak_k')", "1"},
		{"lock_tables", "LOCK TABLES leak_lock WRITE", "SELECT COUNT(*) FROM leak_lock", "0"},
		{"untracked_variable", "SET SESSION max_join_size = 1000", "SELECT @@max_join_size = 1000", "0"},
	}
	for _, tc := range pinned {
		t.Run(tc.name, func(t *testing.T) {
			a := tp.conn(t, db)
			mustExec(t, a, tc.set)
			_ = a.Close() // pinned: B can only borrow the backend after A leaves
			b := tp.conn(t, db)
			if got := queryString(t, b, tc.check); got != tc.want {
				t.Fatalf("B sees %q after A's %s, want %q", got, tc.set, tc.want)
			}
		})
	}
	t.Run("temporary_table_gone", func(t *testing.T) {
		a := tp.conn(t, db)
		mustExec(t, a, "CREATE TEMPORARY TABLE leak_tmp2 (id int)")
		mustExec(t, a, "INSERT INTO leak_tmp2 VALUES (1)") // same backend: pinned
		_ = a.Close()
		b := tp.conn(t, db)
		if _, err := b.ExecContext(context.Background(), "SELECT * FROM leak_tmp2"); mysqlErrNo(err) != 1146 {
			t.Fatalf("B reading A's temporary table: %v, want 1146", err)
		}
	})
	tp.waitIdle(t)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestUntracked: a variable the client set and the proxy does not track
// pins; last_gtid, which MariaDB reports after every write with the binary
// log on, and the proxy's own tracking settings do not.
func TestUntracked(t *testing.T) {
	tests := []struct {
		vars [][2]string
		want string
	}{
		{[][2]string{{"last_gtid", "0-1-42"}}, ""},
		{[][2]string{{"session_track_schema", "ON"}, {"time_zone", "+00:00"}}, ""},
		{[][2]string{{"last_gtid", "0-1-43"}, {"max_join_size", "1000"}}, "max_join_size"},
	}
	for _, tt := range tests {
		if got := untracked(mysqlwire.StateChange{Vars: tt.vars}); got != tt.want {
			t.Errorf("untracked(%v) = %q, want %q", tt.vars, got, tt.want)
		}
	}
}
