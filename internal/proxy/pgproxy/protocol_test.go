package pgproxy

import (
	"bytes"
	"context"
	"errors"
	osexec "os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/proxy/proxytest"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// client authentication paths; failures never use a backend.
func TestServer_Auth(t *testing.T) {
	ctx := context.Background()
	iam := func(mode string) opt { return func(c *config.Cluster) { c.Proxy.IAMAuth = mode } }
	t.Run("scram ok", func(t *testing.T) {
		tp := startProxy(t, 1)
		c := tp.connect(t, "")
		exec(t, c, "select 1")
	})
	bad := []struct {
		name, mode, user, pass, extra string
	}{
		{"scram wrong password", "disabled", "", "wrong", ""},
		{"scram unknown user", "disabled", "nobody", "", ""},
		{"cleartext wrong password", "optional", "", "wrong", "sslmode=require"},
		{"bad iam token", "required", "", proxytest.Token("someone-else"), "sslmode=require"},
		{"password when iam required", "required", "", "", "sslmode=require"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			tp := startProxy(t, 1, iam(tc.mode))
			user, pass := tp.user, tp.pass
			if tc.user != "" {
				user = tc.user
			}
			if tc.pass != "" {
				pass = tc.pass
			}
			cfg, err := pgx.ParseConfig(strings.Replace(tp.url(tc.extra), "sslmode=disable&", "", 1))
			if err != nil {
				t.Fatal(err)
			}
			cfg.User, cfg.Password = user, pass
			_, err = pgx.ConnectConfig(ctx, cfg)
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "28P01" {
				t.Fatalf("got %v, want 28P01", err)
			}
			if n := tp.budget.Used(); n != 0 {
				t.Fatalf("failed login used %d backend connections", n)
			}
			if strings.Contains(tp.logs.String(), pass) {
				t.Fatal("password or token in the log")
			}
		})
	}
	t.Run("iam token over tls", func(t *testing.T) {
		tp := startProxy(t, 1, iam("required"))
		cfg, err := pgx.ParseConfig(strings.Replace(tp.url("sslmode=require"), "sslmode=disable&", "", 1))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Password = proxytest.Token(tp.user)
		c, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		if c.PgConn().Conn().RemoteAddr() == nil {
			t.Fatal("no conn")
		}
		exec(t, c, "select 1")
		if strings.Contains(tp.logs.String(), "X-Amz-Signature") {
			t.Fatal("token in the log")
		}
	})
	t.Run("password over tls with iam optional", func(t *testing.T) {
		tp := startProxy(t, 1, iam("optional"))
		c := tp.connect(t, "sslmode=require")
		exec(t, c, "select 1")
	})
}

// TLS upgrade, require_tls, a large message over TLS.
func TestServer_TLS(t *testing.T) {
	ctx := context.Background()
	tp := startProxy(t, 1, func(c *config.Cluster) { c.Proxy.RequireTLS = true })
	if _, err := pgx.Connect(ctx, tp.url("")); err == nil {
		t.Fatal("plaintext client accepted with require_tls")
	}
	c := tp.connect(t, "sslmode=require")
	big := strings.Repeat("y", 3<<20)
	if got := queryString(t, c, "select $1::text", big); got != big {
		t.Fatal("large value changed")
	}
	if got := queryString(t, c, "select ssl::text from pg_stat_ssl where pid = pg_backend_pid()"); got == "" {
		t.Fatal("no answer")
	}
}

// COPY, empty queries, notices, options, multi-statement queries.
func TestSession_ProtocolEdges(t *testing.T) {
	ctx := context.Background()
	tp := startProxy(t, 2)
	c := tp.connect(t, "")
	exec(t, c, "create table if not exists proxy_copy(a int, b text)")
	exec(t, c, "truncate proxy_copy")
	t.Run("copy in", func(t *testing.T) {
		rows := make([][]any, 5000)
		for i := range rows {
			rows[i] = []any{i, strings.Repeat("z", i%100)}
		}
		n, err := c.CopyFrom(ctx, pgx.Identifier{"proxy_copy"}, []string{"a", "b"}, pgx.CopyFromRows(rows))
		if err != nil || n != 5000 {
			t.Fatalf("%d %v", n, err)
		}
		_, err = c.PgConn().CopyFrom(ctx, strings.NewReader("1\tx\n2\ty\n"), "copy proxy_copy from stdin")
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Run("copy out", func(t *testing.T) {
		var buf bytes.Buffer
		tag, err := c.PgConn().CopyTo(ctx, &buf, "copy (select a from proxy_copy order by a limit 3) to stdout")
		if err != nil || tag.RowsAffected() != 3 || buf.String() != "0\n1\n1\n" {
			t.Fatalf("%q %v %v", buf.String(), tag, err)
		}
	})
	t.Run("copy fail in transaction", func(t *testing.T) {
		exec(t, c, "begin")
		_, err := c.PgConn().CopyFrom(ctx, strings.NewReader("not-a-number\tx\n"), "copy proxy_copy from stdin")
		if err == nil {
			t.Fatal("bad copy succeeded")
		}
		exec(t, c, "rollback")
		exec(t, c, "select 1")
	})
	t.Run("empty and multi-statement", func(t *testing.T) {
		res := c.PgConn().Exec(ctx, "")
		if _, err := res.ReadAll(); err != nil {
			t.Fatal(err)
		}
		rs, err := c.PgConn().Exec(ctx, "select 1; select 2; select 'three'").ReadAll()
		if err != nil || len(rs) != 3 || string(rs[2].Rows[0][0]) != "three" {
			t.Fatalf("%v %v", rs, err)
		}
	})
	t.Run("notices", func(t *testing.T) {
		var got []string
		cfg, _ := pgx.ParseConfig(tp.url(""))
		cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { got = append(got, n.Message) }
		nc, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close(ctx)
		exec(t, nc, "do $$ begin raise notice 'hello from the backend'; end $$")
		if len(got) != 1 || got[0] != "hello from the backend" {
			t.Fatalf("notices: %v", got)
		}
	})
	t.Run("options startup parameter", func(t *testing.T) {
		oc := tp.connect(t, "options=-c%20search_path%3Dopt_schema%20-c%20statement_timeout%3D4321")
		if got := queryString(t, oc, "select current_setting('search_path')"); got != "opt_schema" {
			t.Fatalf("search_path %q", got)
		}
		if got := queryString(t, oc, "select current_setting('statement_timeout')"); got != "4321ms" {
			t.Fatalf("statement_timeout %q", got)
		}
		other := tp.connect(t, "")
		if got := queryString(t, other, "select current_setting('search_path')"); got == "opt_schema" {
			t.Fatal("startup options leaked")
		}
	})
	t.Run("error keeps session", func(t *testing.T) {
		if _, err := c.Exec(ctx, "select * from no_such_table"); err == nil {
			t.Fatal("no error")
		}
		exec(t, c, "begin")
		_, _ = c.Exec(ctx, "select 1/0")
		if _, err := c.Exec(ctx, "select 1"); err == nil {
			t.Fatal("aborted transaction accepted a query")
		}
		exec(t, c, "rollback")
		exec(t, c, "select 1")
	})
	t.Run("simple protocol", func(t *testing.T) {
		sc := tp.connect(t, "default_query_exec_mode=simple_protocol")
		if got := queryString(t, sc, "select $1::text", "it's"); got != "it's" {
			t.Fatal(got)
		}
	})
}

// psql through the proxy, when installed.
func TestServer_Psql(t *testing.T) {
	psql, err := osexec.LookPath("psql")
	testdb.NeedTool(t, err == nil, "psql")
	tp := startProxy(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := osexec.CommandContext(ctx, psql, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", tp.url(""),
		"-c", "select 40 + 2", "-c", "begin; create temp table p(a int); insert into p values (1); select count(*) from p; commit;")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	if got := strings.Fields(string(out)); len(got) < 2 || got[0] != "42" {
		t.Fatalf("psql output %q", out)
	}
}
