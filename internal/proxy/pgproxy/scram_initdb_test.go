package pgproxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	osexec "os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/proxy/proxytest"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// pgBinDir holds initdb, pg_ctl and postgres (Debian's PostgreSQL 15).
const pgBinDir = "/usr/lib/postgresql/15/bin"

// scramCluster is a throwaway PostgreSQL cluster created with
// `initdb --auth=scram-sha-256`: every login, local or TCP, must pass SCRAM.
type scramCluster struct {
	addr, user, password string
}

// startSCRAMCluster runs initdb and pg_ctl in t.TempDir(). As root the
// PostgreSQL binaries refuse to run, so they run as the postgres OS user
// (runuser) on a directory chowned to it. Skips (testdb.NeedTool) when
// initdb is missing or root has no postgres user.
func startSCRAMCluster(t *testing.T) *scramCluster {
	t.Helper()
	skip := func(why string) { testdb.NeedTool(t, false, why) }
	initdb := filepath.Join(pgBinDir, "initdb")
	if _, err := os.Stat(initdb); err != nil {
		skip("initdb not installed: " + err.Error())
	}
	var asPostgres []string
	uid, gid := -1, -1
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			skip("running as root without a postgres OS user")
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		asPostgres = []string{"runuser", "-u", "postgres", "--"}
	}
	dir := t.TempDir()
	// t.TempDir's parent is private to us; the postgres user must traverse it.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	sc := &scramCluster{user: "postgres", password: "scr4m-" + strconv.FormatInt(time.Now().UnixNano(), 36)}
	pwfile, data, sock := filepath.Join(dir, "pw"), filepath.Join(dir, "data"), filepath.Join(dir, "sock")
	if err := os.WriteFile(pwfile, []byte(sc.password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(sock, 0o700); err != nil {
		t.Fatal(err)
	}
	if uid >= 0 {
		for _, p := range []string{dir, pwfile, sock} {
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	run := func(timeout time.Duration, name string, args ...string) ([]byte, error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		argv := append(append(append([]string{}, asPostgres...), filepath.Join(pgBinDir, name)), args...)
		cmd := osexec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Dir = dir
		return cmd.CombinedOutput()
	}
	if out, err := run(2*time.Minute, "initdb", "--auth=scram-sha-256", "-U", sc.user, "--pwfile="+pwfile,
		"--no-sync", "-E", "UTF8", "--locale=C", "-D", data); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	sc.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c max_connections=20", port, sock)
	if out, err := run(time.Minute, "pg_ctl", "-D", data, "-l", filepath.Join(dir, "log"), "-w", "-t", "50", "-o", opts, "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	t.Cleanup(func() {
		if out, err := run(time.Minute, "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"); err != nil {
			t.Errorf("pg_ctl stop: %v\n%s", err, out)
		}
	})
	return sc
}

// scramProxy runs a proxy for sc whose auth secret holds secretPassword.
func scramProxy(t *testing.T, sc *scramCluster, secretPassword string) *testProxy {
	t.Helper()
	tp := &testProxy{budget: proxytest.NewBudget(2), user: sc.user, pass: secretPassword, dbname: "postgres"}
	cl := config.Cluster{Name: "scram", Engine: "postgres", Address: sc.addr, MaxConnections: 2, TLS: config.ClusterTLS{Mode: "disable"},
		Proxy: &config.Proxy{Listen: "127.0.0.1:0", AuthSecrets: []string{"app"}, IAMAuth: "disabled",
			MaxClientConnections: 100, BorrowTimeout: 10 * time.Second, IdleClientTimeout: time.Minute}}
	tp.serve(t, cl, nil)
	return tp
}

// TestServer_SCRAMBackend logs in through the proxy to a real server that
// demands SCRAM-SHA-256 (a throwaway `initdb --auth=scram-sha-256`
// server): the client side is the proxy's SCRAM
// server, the backend side pgconn's SCRAM client with the secret's password.
func TestServer_SCRAMBackend(t *testing.T) {
	sc := startSCRAMCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	t.Run("server demands scram", func(t *testing.T) {
		bad := fmt.Sprintf("postgres://%s:wrong@%s/postgres?sslmode=disable", sc.user, sc.addr)
		_, err := pgx.Connect(ctx, bad)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "28P01" {
			t.Fatalf("direct login with a wrong password: got %v, want 28P01", err)
		}
	})

	t.Run("secret password", func(t *testing.T) {
		tp := scramProxy(t, sc, sc.password)
		c := tp.connect(t, "")
		if got := queryString(t, c, "select current_user || '@' || current_database()"); got != "postgres@postgres" {
			t.Fatalf("got %q", got)
		}
		// The backend stores a SCRAM verifier, so the proxy's login was SCRAM.
		if got := queryString(t, c, "select left(rolpassword, 14) from pg_authid where rolname = current_user"); got != "SCRAM-SHA-256$" {
			t.Fatalf("rolpassword prefix %q", got)
		}
		if got := queryString(t, c, "show password_encryption"); got != "scram-sha-256" {
			t.Fatalf("password_encryption %q", got)
		}
		// Multiplexed: a second client reuses the logged-in connection.
		c2 := tp.connect(t, "")
		exec(t, c2, "select 1")
		exec(t, c, "select 1")
		if n := tp.budget.Used(); n < 1 || n > 2 {
			t.Fatalf("budget used %d", n)
		}
		if strings.Contains(tp.logs.String(), sc.password) {
			t.Fatal("password in the log")
		}
	})

	t.Run("client scram wrong password", func(t *testing.T) {
		tp := scramProxy(t, sc, sc.password)
		cfg, err := pgx.ParseConfig(tp.url(""))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Password = "not-" + sc.password
		_, err = pgx.ConnectConfig(ctx, cfg)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "28P01" {
			t.Fatalf("got %v, want 28P01", err)
		}
		if n := tp.budget.Used(); n != 0 {
			t.Fatalf("failed client login used %d backend connections", n)
		}
	})

	t.Run("wrong secret password", func(t *testing.T) {
		// The client proves the secret's (stale) password to the proxy; the
		// database then refuses the proxy's SCRAM login. The client gets the
		// database's error, the budget slot comes back, nothing leaks.
		stale := "stale-" + sc.password
		tp := scramProxy(t, sc, stale)
		for i := range 2 {
			_, err := pgx.Connect(ctx, tp.url(""))
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "28P01" || !strings.Contains(pe.Message, "password authentication failed") {
				t.Fatalf("attempt %d: got %v, want 28P01 from the database", i, err)
			}
		}
		testdb.Eventually(t, 5*time.Second, 10*time.Millisecond, "budget slots released", func() bool { return tp.budget.Used() == 0 })
		if logs := tp.logs.String(); strings.Contains(logs, stale) || strings.Contains(logs, sc.password) {
			t.Fatal("password in the log")
		}
	})
}
