// Package testdb gives tests the real databases the CI provisions: the
// DSNs from SQLGATE_TEST_MYSQL_DSN and SQLGATE_TEST_PG_URL, skipping when
// unset locally but failing when SQLGATE_REQUIRE_DB is set, so CI can never
// go silently green (CONTRIBUTING.md "Testing"), and a private PostgreSQL schema
// per test. Only tests import it.
package testdb

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// MySQLDSN returns SQLGATE_TEST_MYSQL_DSN (user:pw@tcp(host:port)/db).
func MySQLDSN(tb testing.TB) string {
	tb.Helper()
	return env(tb, "SQLGATE_TEST_MYSQL_DSN", "MySQL")
}

// PGURL returns SQLGATE_TEST_PG_URL (postgres://user:pw@host:port/db).
func PGURL(tb testing.TB) string {
	tb.Helper()
	return env(tb, "SQLGATE_TEST_PG_URL", "PostgreSQL")
}

func env(tb testing.TB, name, what string) string {
	tb.Helper()
	if v := os.Getenv(name); v != "" {
		return v
	}
	if os.Getenv("SQLGATE_REQUIRE_DB") != "" {
		tb.Fatal(name + " unset")
	}
	tb.Skip("no " + what + " configured (" + name + ")")
	return ""
}

// PGSchemaURL creates a schema of its own for the test (prefix + random
// suffix), dropped at cleanup, and returns PGURL with a search_path that
// selects it, so concurrent tests on one database share neither tables
// nor NOTIFY channels.
func PGSchemaURL(tb testing.TB, prefix string) string {
	tb.Helper()
	base := PGURL(tb)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := prefix + hex.EncodeToString(b[:])
	if err := pgExec(base, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		if err := pgExec(base, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("SQLGATE_TEST_PG_URL is not a URL: %v", err)
	}
	q := u.Query()
	q.Set("options", strings.TrimSpace(q.Get("options")+" -csearch_path="+schema))
	u.RawQuery = q.Encode()
	return u.String()
}

func pgExec(dsn, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// LogBuffer collects log output written from concurrent goroutines (an
// io.Writer for slog handlers in tests that grep the logs).
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (s *LogBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *LogBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// NeedTool skips the test when ok is false because a client program or
// library it drives (psql, the aws CLI, boto3, npm packages …) is missing
// locally, and fails it under SQLGATE_REQUIRE_DB=1, where `make test` has
// installed every client the suites use.
func NeedTool(tb testing.TB, ok bool, what string) {
	tb.Helper()
	if ok {
		return
	}
	if os.Getenv("SQLGATE_REQUIRE_DB") != "" {
		tb.Fatal(what + " is missing (SQLGATE_REQUIRE_DB is set: CI must have it)")
	}
	tb.Skip(what + " is missing")
}

// Eventually polls cond every interval until it holds, failing the test
// with what after d. With EventuallyState it is the one place tests wait
// by polling.
func Eventually(tb testing.TB, d, every time.Duration, what string, cond func() bool) {
	tb.Helper()
	EventuallyState(tb, d, every, func() (bool, string) { return cond(), what })
}

// EventuallyState is Eventually for a condition that also describes the
// state it saw; the failure reports the last description.
func EventuallyState(tb testing.TB, d, every time.Duration, cond func() (ok bool, state string)) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within %v", state, d)
		}
		time.Sleep(every)
	}
}

// Elapse lets d of real time pass, for tests whose subject is time itself
// (an idle expiry, pings of an idle connection, memory after idling) or a
// loop that must be paced. It is never the way to wait for another
// goroutine or process: poll that with Eventually. With Eventually it is
// the only place tests sleep (TestNoSleepInTests checks).
func Elapse(d time.Duration) {
	time.Sleep(d)
}

// Replicas are the addresses of the replicated test topology that
// e2e/replicas.sh starts (its start command prints these variables), and
// the script, which tests run to kill, promote and rebuild instances.
type Replicas struct {
	MySQLPrimary, MySQLReplica string // host:port
	PGPrimary, PGReplica       string // host:port
	Script                     string // path of e2e/replicas.sh
	// Env is the script's environment (nil: the test's own); OwnReplicas
	// sets its directory and ports there.
	Env []string
}

// NeedReplicas returns the replicated topology from the
// SQLGATE_TEST_REPLICA_* variables and holds it for the test: tests kill
// and promote instances, so a test of another package (go test runs
// packages in parallel) waits until this one ends. Call it once per test. When they are unset it skips the test,
// or fails it when both SQLGATE_REQUIRE_DB and SQLGATE_REQUIRE_REPLICAS are
// set: the topology costs four more servers, so CI opts in explicitly.
func NeedReplicas(tb testing.TB) Replicas {
	tb.Helper()
	r := Replicas{
		MySQLPrimary: os.Getenv("SQLGATE_TEST_REPLICA_MYSQL_PRIMARY"),
		MySQLReplica: os.Getenv("SQLGATE_TEST_REPLICA_MYSQL_REPLICA"),
		PGPrimary:    os.Getenv("SQLGATE_TEST_REPLICA_PG_PRIMARY"),
		PGReplica:    os.Getenv("SQLGATE_TEST_REPLICA_PG_REPLICA"),
		Script:       os.Getenv("SQLGATE_TEST_REPLICAS_SCRIPT"),
	}
	if r.MySQLPrimary != "" && r.MySQLReplica != "" && r.PGPrimary != "" && r.PGReplica != "" && r.Script != "" {
		lockReplicas(tb)
		return r
	}
	const why = "no replicated topology (eval \"$(e2e/replicas.sh start)\" sets SQLGATE_TEST_REPLICA_*)"
	if os.Getenv("SQLGATE_REQUIRE_DB") != "" && os.Getenv("SQLGATE_REQUIRE_REPLICAS") != "" {
		tb.Fatal(why)
	}
	tb.Skip(why)
	return r
}

// lockReplicas takes an exclusive lock on a file named after the
// topology's directory, released at the test's cleanup.
func lockReplicas(tb testing.TB) {
	tb.Helper()
	name := "sqlgate-replicas-tests.lock"
	if dir := os.Getenv("SQLGATE_REPLICAS_DIR"); dir != "" && filepath.Clean(dir) != "/tmp/sqlgate-replicas" {
		// A topology of its own (its own directory and ports) is not
		// shared with the tests run against the default one.
		name = "sqlgate-replicas-tests-" + filepath.Base(dir) + ".lock"
	}
	lockFile(tb, filepath.Join(os.TempDir(), name))
}
