package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/engines"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// TestAdmin_ConnectReadOnly checks that --readonly creates a database user
// that can SELECT but not write, on MariaDB and PostgreSQL.
func TestAdmin_ConnectReadOnly(t *testing.T) {
	my, err := mysql.ParseDSN(testdb.MySQLDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	pg, err := url.Parse(testdb.PGURL(t))
	if err != nil {
		t.Fatal(err)
	}
	pgPW, _ := pg.User.Password()
	for _, tc := range []struct {
		cluster  config.Cluster
		user, pw string
	}{
		{config.Cluster{Name: "maria", Engine: "mysql", Address: my.Addr, Database: my.DBName}, my.User, my.Passwd},
		{config.Cluster{Name: "pg", Engine: "postgres", Address: pg.Host, Database: strings.TrimPrefix(pg.Path, "/")}, pg.User.Username(), pgPW},
	} {
		t.Run(tc.cluster.Engine, func(t *testing.T) {
			ctx := context.Background()
			cfg, _ := config.Parse([]byte("{}"))
			cfg.DataDir = t.TempDir()
			cfg.Clusters = []config.Cluster{tc.cluster}
			cfg.ApplyClusterDefaults()
			var out bytes.Buffer
			a, err := Open(cfg, &out)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			v, _ := json.Marshal(map[string]string{"username": tc.user, "password": tc.pw})
			if err := a.SecretsCreate(ctx, tc.cluster.Name, string(v)); err != nil {
				t.Fatal(err)
			}
			admin := engine.Credentials{User: tc.user, Password: tc.pw, Database: tc.cluster.Database}
			tbl := fmt.Sprintf("ro_test_%s", tc.cluster.Engine)
			exec(t, cfg, tc.cluster, admin, "DROP TABLE IF EXISTS "+tbl)
			exec(t, cfg, tc.cluster, admin, "CREATE TABLE "+tbl+" (id int)")
			defer exec(t, cfg, tc.cluster, admin, "DROP TABLE "+tbl)
			for i := 0; i < 2; i++ { // idempotent
				if err := a.Connect(ctx, ConnectOptions{Cluster: tc.cluster.Name, Function: "reports", ReadOnly: true}); err != nil {
					t.Fatal(err)
				}
			}
			ro, err := a.secretCreds(ctx, "fn-reports-readonly")
			if err != nil {
				t.Fatal(err)
			}
			ro.Database = tc.cluster.Database
			if _, err := run(cfg, tc.cluster, ro, "SELECT count(*) FROM "+tbl); err != nil {
				t.Fatalf("read-only SELECT: %v", err)
			}
			if _, err := run(cfg, tc.cluster, ro, "INSERT INTO "+tbl+" VALUES (1)"); err == nil {
				t.Fatal("read-only user could INSERT")
			}
			if !strings.Contains(out.String(), "fn-reports-readonly") {
				t.Fatalf("connect output does not name the read-only secret:\n%s", out.String())
			}
		})
	}
}

func exec(t *testing.T, cfg *config.Config, cl config.Cluster, c engine.Credentials, sql string) {
	t.Helper()
	if _, err := run(cfg, cl, c, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func run(cfg *config.Config, cl config.Cluster, c engine.Credentials, sql string) (*engine.Result, error) {
	eng, _, err := engines.Open(cfg, cl)
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	conn, err := eng.Connect(context.Background(), c)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.Exec(context.Background(), sql, nil, 0)
}
