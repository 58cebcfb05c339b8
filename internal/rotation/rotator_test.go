package rotation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/barrier"
	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/engine/mysql"
	"github.com/sqlgate/sqlgate/internal/engine/postgres"
	"github.com/sqlgate/sqlgate/internal/secrets"
	"github.com/sqlgate/sqlgate/internal/state"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// dbCase is one real database: its engine and an admin login that may
// create users (the CI's MariaDB root and PostgreSQL postgres).
type dbCase struct {
	kind  string
	eng   engine.Engine
	admin engine.Credentials
	// checksPasswords is false for a server that trusts local logins.
	checksPasswords bool
}

func mariadb(t *testing.T) dbCase {
	dsn := testdb.MySQLDSN(t)
	m := regexp.MustCompile(`tcp\(([^)]+)\)`).FindStringSubmatch(dsn)
	if m == nil {
		t.Fatalf("cannot read the address of %s", dsn)
	}
	return dbCase{kind: "mysql", eng: mysql.New(mysql.Config{Address: m[1], ConnectTimeout: 5 * time.Second}),
		admin: engine.Credentials{User: "root"}}
}

func pg(t *testing.T) dbCase {
	u, err := url.Parse(testdb.PGURL(t))
	if err != nil {
		t.Fatal(err)
	}
	return dbCase{kind: "postgres", eng: postgres.New(postgres.Config{Address: u.Host, ConnectTimeout: 5 * time.Second}),
		admin: engine.Credentials{User: "postgres", Database: "postgres"}}
}

func (d dbCase) exec(t *testing.T, stmts ...string) {
	t.Helper()
	c, err := d.eng.Connect(context.Background(), d.admin)
	if err != nil {
		t.Fatalf("admin login: %v", err)
	}
	defer c.Close()
	for _, s := range stmts {
		if _, err := c.Exec(context.Background(), s, nil, 0); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// newUser creates a login user with a unique name and drops it (and its
// clone) at cleanup.
func (d dbCase) newUser(t *testing.T, prefix, pw string, extra ...string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := prefix + hex.EncodeToString(b[:])
	if d.kind == "mysql" {
		d.exec(t, append([]string{"CREATE USER '" + name + "'@'%' IDENTIFIED BY '" + pw + "'"}, extra...)...)
		t.Cleanup(func() { d.exec(t, "DROP USER IF EXISTS '"+name+"'@'%'", "DROP USER IF EXISTS '"+name+"_clone'@'%'") })
	} else {
		d.exec(t, append([]string{`CREATE ROLE "` + name + `" LOGIN PASSWORD '` + pw + `'`}, extra...)...)
		t.Cleanup(func() { d.exec(t, `DROP ROLE IF EXISTS "`+name+`_clone"`, `DROP ROLE IF EXISTS "`+name+`"`) })
	}
	return name
}

type fixture struct {
	store *secrets.Store
	st    *state.SQLite
	rot   *Rotator
	db    dbCase
}

func newFixture(t *testing.T, db dbCase) *fixture {
	st, err := state.OpenSQLite(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b, _ := barrier.New(map[uint32][]byte{1: make([]byte, barrier.KeySize)}, 1)
	store := secrets.New(st, b, secrets.Options{})
	engines := func(cluster string) (engine.Engine, string, bool) {
		if cluster != "c1" {
			return nil, "", false
		}
		return db.eng, db.kind, true
	}
	return &fixture{store: store, st: st, db: db, rot: New(store, st, engines, Options{Log: slog.New(slog.DiscardHandler)})}
}

func (f *fixture) secret(t *testing.T, name string, v map[string]any) string {
	if f.db.kind == "postgres" {
		v["dbname"] = "postgres"
	}
	b, _ := json.Marshal(v)
	s := string(b)
	ref, err := f.store.Create(context.Background(), secrets.CreateInput{Name: name, Value: &secrets.Payload{SecretString: &s}})
	if err != nil {
		t.Fatal(err)
	}
	return ref.ARN
}

func (f *fixture) value(t *testing.T, arn, stage string) map[string]any {
	t.Helper()
	v, err := f.store.GetValue(context.Background(), arn, "", stage)
	if err != nil {
		t.Fatalf("%s: %v", stage, err)
	}
	var m map[string]any
	_ = json.Unmarshal([]byte(*v.SecretString), &m)
	return m
}

func (f *fixture) request(t *testing.T, arn string) {
	t.Helper()
	if _, err := f.store.ConfigureRotation(context.Background(), secrets.ConfigureInput{SecretID: arn, Immediate: true,
		Rules: &secrets.Rules{AfterDays: 30}}); err != nil {
		t.Fatal(err)
	}
}

func login(ctx context.Context, eng engine.Engine, v map[string]any) error {
	dbname, _ := v["dbname"].(string)
	c, err := eng.Connect(ctx, engine.Credentials{User: v["username"].(string), Password: v["password"].(string), Database: dbname})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Exec(ctx, "SELECT 1", nil, 0)
	return err
}

// clientLoop logs in with the secret's live value on every iteration, as
// a pool opening a new connection per transaction does, until stop. A
// login refused because the password changed between reading the value
// and connecting is retried once with GraceValue (the other password that
// may be valid at that moment); failures after that retry are counted.
func (f *fixture) clientLoop(ctx context.Context, arn string, stop <-chan struct{}, n, retried, failed *atomic.Int64) {
	read := func() map[string]any {
		v, err := f.store.LiveValue(ctx, arn)
		if err != nil {
			return nil
		}
		var m map[string]any
		_ = json.Unmarshal([]byte(*v.SecretString), &m)
		return m
	}
	grace := func() map[string]any {
		v, ok, err := f.store.GraceValue(ctx, arn, time.Minute)
		if err != nil || !ok {
			return read()
		}
		var m map[string]any
		_ = json.Unmarshal([]byte(*v.SecretString), &m)
		return m
	}
	for {
		select {
		case <-stop:
			return
		default:
		}
		n.Add(1)
		first := read()
		if err := login(ctx, f.db.eng, first); err != nil {
			retried.Add(1)
			// Retry with whichever valid-now value differs from the one
			// refused: the live value read again, else the grace value.
			// Rotations here follow each other at once, so the password
			// may change again during a retry: a client gets three tries.
			ok := false
			for try := 0; try < 2 && !ok; try++ {
				next := read()
				if next["password"] == first["password"] && next["username"] == first["username"] {
					next = grace()
				}
				ok = login(ctx, f.db.eng, next) == nil
				first = next
			}
			if !ok {
				failed.Add(1)
			}
		}
	}
}

func TestRotate(t *testing.T) {
	for _, mk := range []func(*testing.T) dbCase{mariadb, pg} {
		db := mk(t)
		db.checksPasswords = db.kind == "mysql" // the CI's PostgreSQL trusts 127.0.0.1
		t.Run(db.kind+"/single", func(t *testing.T) { testSingle(t, db) })
		t.Run(db.kind+"/alternating", func(t *testing.T) { testAlternating(t, db) })
		t.Run(db.kind+"/no-privilege", func(t *testing.T) { testNoPrivilege(t, db) })
	}
}

func testSingle(t *testing.T, db dbCase) {
	ctx := context.Background()
	f := newFixture(t, db)
	user := db.newUser(t, "rt_single_", "Start-pw-1")
	arn := f.secret(t, "single", map[string]any{"engine": db.kind, "host": "h", "port": 1, "username": user,
		"password": "Start-pw-1", "dbClusterIdentifier": "c1", "extra": "kept"})
	if err := f.rot.Rotatable(ctx, arn); err != nil {
		t.Fatal(err)
	}
	var n, retried, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); f.clientLoop(ctx, arn, stop, &n, &retried, &failed) }()
	passwords := []string{"Start-pw-1"}
	for i := 0; i < 3; i++ {
		f.request(t, arn)
		if got := f.rot.RunOnce(ctx); got != 1 {
			t.Fatalf("RunOnce rotated %d secrets", got)
		}
		if s, _ := f.store.Describe(ctx, arn); s.Rotation.Failure != "" {
			t.Fatalf("rotation %d failed: %s", i, s.Rotation.Failure)
		}
		cur := f.value(t, arn, secrets.StageCurrent)
		prev := f.value(t, arn, secrets.StagePrevious)
		if prev["password"] != passwords[len(passwords)-1] || cur["password"] == prev["password"] || cur["username"] != user || cur["extra"] != "kept" {
			t.Fatalf("rotation %d: AWSCURRENT/AWSPREVIOUS wrong", i)
		}
		passwords = append(passwords, cur["password"].(string))
		if err := login(ctx, db.eng, cur); err != nil {
			t.Fatalf("new password refused: %v", err)
		}
		if db.checksPasswords {
			if err := login(ctx, db.eng, prev); err == nil {
				t.Fatal("old password still accepted")
			}
		}
	}
	close(stop)
	wg.Wait()
	s, _ := f.store.Describe(ctx, arn)
	if s.Rotation.Failure != "" || s.Rotation.LastRotated == nil || s.Rotation.Requested != nil {
		t.Fatalf("rotation state %+v", s.Rotation)
	}
	if _, err := f.store.GetValue(ctx, arn, "", secrets.StagePending); err == nil {
		t.Fatal("AWSPENDING left behind")
	}
	t.Logf("%s single user: %d logins, %d retried after a password change, %d failed", db.kind, n.Load(), retried.Load(), failed.Load())
	if failed.Load() != 0 || n.Load() == 0 {
		t.Fatalf("%d of %d logins failed", failed.Load(), n.Load())
	}
}

func testAlternating(t *testing.T, db dbCase) {
	ctx := context.Background()
	f := newFixture(t, db)
	var master string
	if db.kind == "mysql" {
		master = db.newUser(t, "rt_master_", "Master-pw-1")
		db.exec(t, "GRANT CREATE USER, SELECT ON *.* TO '"+master+"'@'%' WITH GRANT OPTION")
	} else {
		master = db.newUser(t, "rt_master_", "Master-pw-1")
		db.exec(t, `ALTER ROLE "`+master+`" CREATEROLE`)
	}
	app := db.newUser(t, "rt_app_", "App-pw-1")
	if db.kind == "postgres" {
		db.exec(t, `GRANT "`+app+`" TO "`+master+`" WITH ADMIN OPTION`)
	}
	masterARN := f.secret(t, "master", map[string]any{"engine": db.kind, "username": master, "password": "Master-pw-1", "dbClusterIdentifier": "c1"})
	arn := f.secret(t, "app", map[string]any{"engine": db.kind, "username": app, "password": "App-pw-1", "dbClusterIdentifier": "c1", "masterarn": masterARN})
	var n, retried, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); f.clientLoop(ctx, arn, stop, &n, &retried, &failed) }()
	users := []string{app}
	for i := 0; i < 3; i++ {
		f.request(t, arn)
		f.rot.RunOnce(ctx)
		cur, prev := f.value(t, arn, secrets.StageCurrent), f.value(t, arn, secrets.StagePrevious)
		if s, _ := f.store.Describe(ctx, arn); s.Rotation.Failure != "" {
			t.Fatalf("rotation %d failed: %s", i, s.Rotation.Failure)
		}
		if cur["username"] != otherUser(prev["username"].(string)) || prev["username"] != users[len(users)-1] {
			t.Fatalf("rotation %d: users %v -> %v", i, prev["username"], cur["username"])
		}
		users = append(users, cur["username"].(string))
		for _, v := range []map[string]any{cur, prev} { // both logins work: no client is cut off
			if err := login(ctx, db.eng, v); err != nil {
				t.Fatalf("rotation %d: %s refused: %v", i, v["username"], err)
			}
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("%s alternating users: %d logins, %d retried, %d failed", db.kind, n.Load(), retried.Load(), failed.Load())
	if failed.Load() != 0 || retried.Load() != 0 {
		t.Fatalf("alternating users: %d retried, %d failed of %d", retried.Load(), failed.Load(), n.Load())
	}
	if !slices.Equal(users[:3], []string{app, app + "_clone", app}) {
		t.Fatalf("users %v", users)
	}
}

// testNoPrivilege: the master user may not create or alter users, so the
// set step fails; the secret and its clients keep working.
func testNoPrivilege(t *testing.T, db dbCase) {
	ctx := context.Background()
	f := newFixture(t, db)
	master := db.newUser(t, "rt_weak_", "Weak-pw-1")
	app := db.newUser(t, "rt_app_", "App-pw-1")
	masterARN := f.secret(t, "weak", map[string]any{"engine": db.kind, "username": master, "password": "Weak-pw-1", "dbClusterIdentifier": "c1"})
	arn := f.secret(t, "app", map[string]any{"engine": db.kind, "username": app, "password": "App-pw-1", "dbClusterIdentifier": "c1", "masterarn": masterARN})
	before := f.value(t, arn, secrets.StageCurrent)
	f.request(t, arn)
	f.rot.RunOnce(ctx)
	s, _ := f.store.Describe(ctx, arn)
	if !strings.HasPrefix(s.Rotation.Failure, "setSecret: ") || s.Rotation.Requested != nil || s.Rotation.LivePending != "" {
		t.Fatalf("rotation state %+v", s.Rotation)
	}
	if strings.Contains(s.Rotation.Failure, f.value(t, arn, secrets.StagePending)["password"].(string)) {
		t.Fatal("failure message contains the pending password")
	}
	after := f.value(t, arn, secrets.StageCurrent)
	if after["password"] != before["password"] || after["username"] != before["username"] {
		t.Fatal("AWSCURRENT changed")
	}
	live, err := f.store.LiveValue(ctx, arn)
	if err != nil || !strings.Contains(*live.SecretString, `"App-pw-1"`) {
		t.Fatalf("live value is not AWSCURRENT: %v", err)
	}
	if err := login(ctx, db.eng, after); err != nil {
		t.Fatalf("current login broken: %v", err)
	}
	t.Logf("%s: failure recorded: %s", db.kind, s.Rotation.Failure)
}

// TestLease: of two rotators sharing a state store, one holds the lease.
func TestLease(t *testing.T) {
	ctx := context.Background()
	st, err := state.OpenSQLite(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := &lease{st: st, node: "a", ttl: time.Hour}
	b := &lease{st: st, node: "b", ttl: time.Hour}
	if ok, err := a.acquire(ctx); !ok || err != nil {
		t.Fatalf("a: %v %v", ok, err)
	}
	if ok, err := b.acquire(ctx); ok || err != nil {
		t.Fatalf("b took a held lease: %v %v", ok, err)
	}
	if ok, _ := a.acquire(ctx); !ok {
		t.Fatal("a could not renew")
	}
	a.release(ctx)
	if ok, err := b.acquire(ctx); !ok || err != nil {
		t.Fatalf("b after release: %v %v", ok, err)
	}
	expired := &lease{st: st, node: "c", ttl: -time.Second}
	if ok, _ := expired.acquire(ctx); ok {
		t.Fatal("c took b's lease")
	}
}
