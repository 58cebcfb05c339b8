package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/testdb"
)

var built struct {
	once sync.Once
	dir  string
	err  error
	out  []byte
}

// sqlgateBinary builds this command once per test run and returns the
// binary's path; the tests that need a real process (signals, several
// nodes) share it.
func sqlgateBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "sqlgate-bin")
		if built.err == nil {
			built.out, built.err = exec.Command("go", "build", "-o", filepath.Join(built.dir, "sqlgate"), ".").CombinedOutput()
		}
	})
	if built.err != nil {
		t.Fatalf("build: %v\n%s", built.err, built.out)
	}
	return filepath.Join(built.dir, "sqlgate")
}

// TestServe_SIGHUPNamesSettingsThatNeedRestart: a reload applies the
// budget and logs, without applying them, the settings only a restart
// changes.
func TestServe_SIGHUPNamesSettingsThatNeedRestart(t *testing.T) {
	bin := sqlgateBinary(t)
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "sqlgate.yaml")
	write := func(http string, maxConns int) {
		y := fmt.Sprintf("data_dir: %s\nlisten: {http: %q}\nclusters:\n  - {name: default, engine: sqlite, max_connections: %d}\n",
			filepath.Join(dir, "data"), http, maxConns)
		if err := os.WriteFile(cfgFile, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("127.0.0.1:0", 20)
	cmd := exec.Command(bin, "serve", "--config", cfgFile)
	cmd.Env = append(os.Environ(), "SQLGATE_ROOT_ACCESS_KEY_ID=AKIDSQLGATERELOAD001", "SQLGATE_ROOT_SECRET_ACCESS_KEY=sqlgate-reload-secret-access-key-000000")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logs := &testdb.LogBuffer{}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			fmt.Fprintln(logs, sc.Text())
		}
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	testdb.Eventually(t, 60*time.Second, 20*time.Millisecond, "sqlgate listening", func() bool { return strings.Contains(logs.String(), "msg=listening") })

	write("127.0.0.1:1", 30)
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testdb.Eventually(t, 30*time.Second, 20*time.Millisecond, "the reload's warning", func() bool { return strings.Contains(logs.String(), "need a restart") })
	var line string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "need a restart") {
			line = l
		}
	}
	t.Logf("reload: %s", line)
	if !strings.Contains(line, "listen.http") || strings.Contains(line, "max_connections") {
		t.Errorf("reload log = %q, want listen.http named and max_connections (applied) not", line)
	}
	if !strings.Contains(logs.String(), `msg="cluster connection budget changed" cluster=default from=20 to=30`) {
		t.Errorf("budget not applied:\n%s", logs)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	os.Exit(code)
}
