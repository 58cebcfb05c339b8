package state

import (
	"github.com/sqlgate/sqlgate/internal/testdb"

	"context"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

func openPG(t *testing.T, dsn string) *Postgres {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// pgBackend opens handles on one new schema per test.
func pgBackend(t *testing.T) func() Store {
	dsn := testdb.PGSchemaURL(t, "sqlgate_state_test_")
	return func() Store { return openPG(t, dsn) }
}

func TestPostgres_Store(t *testing.T) {
	testStore(t, pgBackend)
}

func TestOpenPostgres(t *testing.T) {
	dsn := testdb.PGSchemaURL(t, "sqlgate_state_test_")
	t.Run("concurrent first start", func(t *testing.T) {
		const nodes = 8
		var wg sync.WaitGroup
		for range nodes {
			wg.Go(func() {
				p, err := OpenPostgres(context.Background(), dsn)
				if err != nil {
					t.Error(err)
					return
				}
				p.Close()
			})
		}
		wg.Wait()
	})
	t.Run("existing table", func(t *testing.T) {
		p := openPG(t, dsn)
		schema := strings.TrimPrefix(strings.Split(p.table, ".")[0], `"`)
		schema = strings.TrimSuffix(schema, `"`)
		if !strings.HasPrefix(schema, "sqlgate_state_test_") {
			t.Errorf("table %s not in the test schema", p.table)
		}
		if want := schema + ".sqlgate_state"; p.channel != want {
			t.Errorf("channel = %q, want %q", p.channel, want)
		}
	})
	t.Run("bad DSN", func(t *testing.T) {
		_, err := OpenPostgres(context.Background(), "postgres://u:secretpw@127.0.0.1:1/db?connect_timeout=1")
		if err == nil {
			t.Fatal("no error")
		}
		if strings.Contains(err.Error(), "secretpw") {
			t.Errorf("error reveals the password: %v", err)
		}
	})
}

// TestPostgres_Watch runs the watch contract across two handles (nodes).
func TestPostgres_Watch(t *testing.T) {
	t.Run("across nodes", func(t *testing.T) {
		open := pgBackend(t)
		a, b := open(), open()
		testWatch(t, a, b.(*Postgres))
	})
	t.Run("Close", func(t *testing.T) {
		testWatchClose(t, openPG(t, testdb.PGSchemaURL(t, "sqlgate_state_test_")))
	})
	t.Run("cannot listen", func(t *testing.T) {
		p := openPG(t, testdb.PGSchemaURL(t, "sqlgate_state_test_"))
		p.connCfg = p.connCfg.Copy()
		p.connCfg.Port, p.connCfg.Fallbacks = 1, nil
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := p.Watch(ctx, func(string, string) { t.Error("fn called") })
		if err == nil {
			t.Fatal("no error")
		}
	})
}

// TestPostgres_WatchReconnect kills the watch connection's backend and checks
// that the watcher reports the gap and then hears later writes.
func TestPostgres_WatchReconnect(t *testing.T) {
	ctx := context.Background()
	dsn := testdb.PGSchemaURL(t, "sqlgate_state_test_")
	a, b := openPG(t, dsn), openPG(t, dsn)
	pids := make(chan uint32, 16)
	b.testHookListen = func(pid uint32) { pids <- pid }
	b.pingEvery = 50 * time.Millisecond // exercise the idle ping too
	ch := watchEvents(t, b)
	pid := <-pids

	testdb.Elapse(200 * time.Millisecond) // a few idle pings
	if err := a.Put(ctx, "w", "before", nil); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, ch, event{"w", "before"}, maxWatchDelay)
	select {
	case pid := <-pids:
		t.Fatalf("reconnected (pid %d) without a failure", pid)
	default:
	}

	var killed bool
	err := withConn(ctx, a.pool, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, int32(pid)).Scan(&killed)
	})
	if err != nil || !killed {
		t.Fatalf("terminate listener %d: %v, %v", pid, killed, err)
	}
	waitEvent(t, ch, event{WatchAll, ""}, 5*time.Second)
	if got := <-pids; got == pid {
		t.Fatalf("still on backend %d", pid)
	}
	start := time.Now()
	if err := a.Put(ctx, "w", "after", nil); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, ch, event{"w", "after"}, maxWatchDelay)
	t.Logf("seen after %v", time.Since(start))
}

func TestPrefixEnd(t *testing.T) {
	tests := []struct {
		prefix, want string
		ok           bool
	}{
		{"", "", false},
		{"b", "c", true},
		{"b/", "b0", true},
		{"é/", "é0", true},
		{"é", "ê", true},
		{"\uD7FF", "\uE000", true},
		{"a\U0010FFFF", "b", true},
		{"\U0010FFFF\U0010FFFF", "", false},
		{"\xff", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			got, ok := prefixEnd(tt.prefix)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("got %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestNotifyPayload(t *testing.T) {
	long := strings.Repeat("k", maxNotifyPayload)
	tests := []struct {
		name, ns, key string
		want          event
	}{
		{"plain", "iam.keys", "AKID", event{"iam.keys", "AKID"}},
		{"separator in key", "ns", "a\x1fb", event{"ns", "a\x1fb"}},
		{"empty key", "ns", "", event{"ns", ""}},
		{"long key", "ns", long, event{"ns", ""}},
		{"long ns", long + "n", "k", event{WatchAll, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := notifyPayload(tt.ns, tt.key)
			if len(p) > maxNotifyPayload {
				t.Fatalf("payload of %d bytes", len(p))
			}
			ns, key := parsePayload(p)
			if got := (event{ns, key}); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNotifyChannel(t *testing.T) {
	if got := notifyChannel("public"); got != "public.sqlgate_state" {
		t.Errorf("got %q", got)
	}
	got := notifyChannel(strings.Repeat("é", 30))
	if len(got) > 63 || !utf8.ValidString(got) {
		t.Errorf("got %q (%d bytes)", got, len(got))
	}
}
