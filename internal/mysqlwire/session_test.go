package mysqlwire

import (
	"strings"
	"testing"
)

// TestClient_SessionTrackingAndReset records what MariaDB reports through
// session tracking and what COM_RESET_CONNECTION clears; the MySQL engine's
// dirty tracking and reset rely on both.
func TestClient_SessionTrackingAndReset(t *testing.T) {
	c, states := dial(t, true)
	query(t, c, "SET SESSION session_track_state_change=ON, session_track_schema=ON, session_track_system_variables='*'")
	tmp := "mw_tmp_" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "_"))
	tracked := map[string]bool{ // statement → reported as a state change
		"SET @v = 'x'": true,
		"CREATE TEMPORARY TABLE " + tmp + " (i int)": true,
		"PREPARE s FROM 'SELECT 1'":                  true,
		"SET NAMES gbk":                              true,
		"USE mysql":                                  true,
		"SELECT @w := 1":                             false, // hence the engine's own classifier
		"SELECT GET_LOCK('mw_lock', 0)":              false,
		"SELECT LAST_INSERT_ID(5)":                   false,
	}
	order := []string{"SET @v = 'x'", "SELECT @w := 1", "CREATE TEMPORARY TABLE " + tmp + " (i int)", "PREPARE s FROM 'SELECT 1'",
		"SELECT GET_LOCK('mw_lock', 0)", "SELECT LAST_INSERT_ID(5)", "SET NAMES gbk", "USE mysql"}
	for _, q := range order {
		*states = nil
		query(t, c, q)
		got := c.Status()&StatusStateChanged != 0 && len(*states) > 0 && (*states)[0].Changed
		if got != tracked[q] {
			t.Errorf("%q: state change reported = %v (status %#x, %+v), want %v", q, got, c.Status(), *states, tracked[q])
		}
	}
	if sc := (*states)[0]; !sc.HasSchema || sc.Schema != "mysql" {
		t.Errorf("USE: schema tracker = %+v", sc)
	}
	query(t, c, "BEGIN")
	if err := c.ResetConnection(); err != nil {
		t.Fatal(err)
	}
	if c.Status()&StatusInTrans != 0 {
		t.Errorf("IN_TRANS after reset: %#x", c.Status())
	}
	rows, _ := query(t, c, "SELECT @v, @w, DATABASE(), @@character_set_client, @@character_set_connection, "+
		"@@character_set_results, @@collation_connection, IS_USED_LOCK('mw_lock') IS NULL, @@session_track_state_change, "+
		"LAST_INSERT_ID(), @@in_transaction")
	// The current database survives the reset; session variables (the
	// tracking settings too) go back to their global values.
	want := "NULL|NULL|mysql|utf8mb4|utf8mb4|utf8mb4|utf8mb4_general_ci|1|0|0|0"
	if got := strings.Join(rows[0], "|"); got != want {
		t.Errorf("after reset: %s\n                want %s", got, want)
	}
	if _, err := c.Query("SELECT * FROM sqlgate_test." + tmp); err == nil {
		t.Error("temporary table survived the reset")
	}
	if _, err := c.Query("EXECUTE s"); err == nil {
		t.Error("prepared statement survived the reset")
	}
}

func TestClient_Pipeline(t *testing.T) {
	c, _ := dial(t, true)
	query(t, c, "USE mysql")
	err := c.Pipeline(ResetCommand(), InitDBCommand("sqlgate_test"), QueryCommand("SET @a = 1"))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := query(t, c, "SELECT DATABASE(), @a")
	if rows[0][0] != "sqlgate_test" || rows[0][1] != "1" {
		t.Fatalf("rows = %v", rows)
	}
	err = c.Pipeline(InitDBCommand("no_such_db_mw"), QueryCommand("SET @a = 2"))
	if se := (*Error)(nil); err == nil || !strings.Contains(err.Error(), "1049") {
		t.Fatalf("err = %v (%v), want 1049", err, se)
	}
	rows, _ = query(t, c, "SELECT @a")
	if rows[0][0] != "2" {
		t.Fatalf("pipeline stopped after the error: %v", rows)
	}
}

func TestClient_ChangeUser(t *testing.T) {
	c, _ := dial(t, false)
	cfg := dialConfig(t)
	query(t, c, "USE "+cfg.DBName)
	query(t, c, "SET @v = 1")
	query(t, c, "BEGIN")
	if err := c.ChangeUser(cfg.User, cfg.Passwd, ""); err != nil {
		t.Fatal(err)
	}
	rows, _ := query(t, c, "SELECT DATABASE(), @v, @@in_transaction, CURRENT_USER() LIKE CONCAT('"+cfg.User+"', '@%')")
	if got := strings.Join(rows[0], "|"); got != "NULL|NULL|0|1" {
		t.Fatalf("after COM_CHANGE_USER: %s", got)
	}
	if err := c.ChangeUser(cfg.User, "wrong", ""); err == nil {
		t.Fatal("COM_CHANGE_USER with a wrong password succeeded")
	}
}
