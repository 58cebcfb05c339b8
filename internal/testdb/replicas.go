package testdb

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// OwnReplicas returns a replicated topology of the test's own: e2e/replicas.sh
// run with its own data directory (os.TempDir()/sqlgate-replicas-NAME) and
// ports (MariaDB mysqlPort and mysqlPort+1, PostgreSQL pgPort and pgPort+1),
// so a test that kills and promotes instances never disturbs the shared
// topology other tests use. It is opted into like NeedReplicas (the
// SQLGATE_TEST_REPLICAS_SCRIPT variable names the script); start the
// engines with Run("start", ENGINE). Tests of the same name serialise on a
// lock of their own. Pick ports below the kernel's ephemeral range
// (usually from 32768), or an outgoing connection may hold one.
func OwnReplicas(tb testing.TB, name string, mysqlPort, pgPort int) Replicas {
	tb.Helper()
	script := os.Getenv("SQLGATE_TEST_REPLICAS_SCRIPT")
	if script == "" {
		const why = "no replicated topology (eval \"$(e2e/replicas.sh start)\" sets SQLGATE_TEST_REPLICAS_SCRIPT)"
		if os.Getenv("SQLGATE_REQUIRE_DB") != "" && os.Getenv("SQLGATE_REQUIRE_REPLICAS") != "" {
			tb.Fatal(why)
		}
		tb.Skip(why)
	}
	dir := filepath.Join(os.TempDir(), "sqlgate-replicas-"+name)
	lockFile(tb, dir+".lock")
	addr := func(p int) string { return fmt.Sprintf("127.0.0.1:%d", p) }
	return Replicas{
		MySQLPrimary: addr(mysqlPort), MySQLReplica: addr(mysqlPort + 1),
		PGPrimary: addr(pgPort), PGReplica: addr(pgPort + 1),
		Script: script,
		Env: append(os.Environ(), "SQLGATE_REPLICAS_DIR="+dir,
			fmt.Sprintf("SQLGATE_REPLICAS_MYSQL_PORT=%d", mysqlPort), fmt.Sprintf("SQLGATE_REPLICAS_PG_PORT=%d", pgPort),
			"SQLGATE_REPLICAS_WAIT=60"),
	}
}

// Run runs the topology's script with args (start, kill, promote, …),
// failing the test when it fails.
func (r Replicas) Run(tb testing.TB, args ...string) {
	tb.Helper()
	cmd := exec.Command("bash", append([]string{r.Script}, args...)...)
	cmd.Env = r.Env
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("replicas.sh %v: %v\n%s", args, err, out)
	}
}

// lockFile takes an exclusive lock on path, released at the test's cleanup.
func lockFile(tb testing.TB, path string) {
	tb.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		tb.Fatalf("replicas lock: %v", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close()
		tb.Fatalf("replicas lock: %v", err)
	}
	tb.Cleanup(func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	})
}
