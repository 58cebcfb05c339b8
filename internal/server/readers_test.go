package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	gomysql "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// readerEnv is a running server over the replicated topology whose
// cluster (pg or maria) has a read-only proxy endpoint created with the
// aws CLI, and an SQL endpoint GET /ro/<cluster> with target reader that
// answers the server's port.
type readerEnv struct {
	r      testdb.Replicas
	rs     *runningServer
	script func(...string)
	ro     string // the CLI-created read-only endpoint, host:port
	fileRO string // maria only: the read-only endpoint declared in the file
}

// newReaderEnv starts it for cluster ("pg" or "maria") with
// max_replica_lag 1s and the given writer fallback. MariaDB clients log
// in as sqlgate_app, to whom the replica's read_only applies; the health
// checks use sqlgate, which may read replication status.
func newReaderEnv(t *testing.T, cluster string, fallback bool) *readerEnv {
	_, err := exec.LookPath("aws")
	testdb.NeedTool(t, err == nil, "the aws CLI")
	r := testdb.NeedReplicas(t)
	e := &readerEnv{r: r, script: replicaScript(t, r)}
	e.script("start", "all")
	engine := map[string]string{"pg": "postgres", "maria": "mariadb"}[cluster]
	t.Cleanup(func() { e.script("resume", engine) })
	pg, my := replicatedTargets(r, 200*time.Millisecond)
	ports := strings.Split(freePorts(t, 2), "-")
	my.user = "sqlgate_app"
	my.cluster.HealthCheck.Secret = "maria-health"
	e.fileRO = "127.0.0.1:" + ports[1]
	my.cluster.Proxy.Endpoints = []config.ProxyEndpoint{{Name: "maria-file-ro", Listen: e.fileRO, TargetRole: config.TargetReadOnly}}
	for _, tg := range []*dbTarget{&pg, &my} {
		tg.cluster.Readers = config.Readers{MaxReplicaLag: time.Second, WriterFallback: fallback}
	}
	cfg := configFor(pg, my)
	cfg.RDS.ProxyPorts = ports[0] + "-" + ports[0]
	portSQL := map[string]string{"pg": "select inet_server_port() as port", "maria": "SELECT @@port AS port"}
	for _, c := range []string{"pg", "maria"} {
		cfg.Endpoints = append(cfg.Endpoints, config.Endpoint{Name: "ro-" + c, Method: "GET", Path: "/ro/" + c, Cluster: c,
			Secret: c + "-proxy", Target: config.TargetReader, SQL: config.Statements{portSQL[c]}})
	}
	e.rs = startRunning(t, cfg, pg, my)
	e.createSecret(t, "maria-health", "sqlgate")
	e.ro = e.createReadOnlyEndpoint(t, cluster)
	return e
}

func (e *readerEnv) createSecret(t *testing.T, name, user string) {
	t.Helper()
	if _, err := e.rs.secrets.CreateSecret(context.Background(), secretInput(name, user, "sqlgatepw")); err != nil {
		t.Fatal(err)
	}
}

// aws runs the aws CLI against the server with the test root key.
func (e *readerEnv) aws(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("aws", append([]string{"--endpoint-url", "http://" + e.rs.srv.Addrs()[0].String(), "--output", "text"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "AWS_ACCESS_KEY_ID=" + testAKID,
		"AWS_SECRET_ACCESS_KEY=" + testSecret, "AWS_DEFAULT_REGION=us-east-1"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// createReadOnlyEndpoint creates the endpoint "<proxy>-ro" with
// TargetRole READ_ONLY on the proxy of cluster and returns its address
// as describe-db-proxy-endpoints reports it.
func (e *readerEnv) createReadOnlyEndpoint(t *testing.T, proxy string) string {
	name := proxy + "-ro"
	e.aws(t, "rds", "create-db-proxy-endpoint", "--db-proxy-name", proxy, "--db-proxy-endpoint-name", name,
		"--vpc-subnet-ids", "unused", "--target-role", "READ_ONLY")
	got := e.aws(t, "rds", "describe-db-proxy-endpoints", "--db-proxy-endpoint-name", name,
		"--query", "DBProxyEndpoints[0].[TargetRole,Endpoint]")
	role, addr, _ := strings.Cut(got, "\t")
	if role != "READ_ONLY" || addr == "" {
		t.Fatalf("describe-db-proxy-endpoints %s: %q, want READ_ONLY and its address", name, got)
	}
	testdb.Eventually(t, 10*time.Second, 20*time.Millisecond, "the read-only endpoint listening", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	})
	return addr
}

// metric returns the value of the sample named series on /metrics ("" if absent).
func (e *readerEnv) metric(t *testing.T, series string) string {
	t.Helper()
	return metricOf(t, e.rs, series)
}

// metricOf returns the value of the sample named series on rs's /metrics
// ("" if absent).
func metricOf(t *testing.T, rs *runningServer, series string) string {
	t.Helper()
	resp, err := http.Get("http://" + rs.srv.Addrs()[0].String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}

// endpointPort calls GET /ro/<cluster> and returns the port it reports.
func (e *readerEnv) endpointPort(cluster string) (int, error) {
	resp, err := http.Get("http://" + e.rs.srv.Addrs()[0].String() + "/ro/" + cluster)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("GET /ro/%s: %d %s", cluster, resp.StatusCode, body)
	}
	i := strings.Index(string(body), `"port":`)
	if i < 0 {
		return 0, fmt.Errorf("GET /ro/%s: no port in %s", cluster, body)
	}
	digits := strings.TrimLeft(string(body[i+len(`"port":`):]), ` "`)
	n := 0
	for n < len(digits) && digits[n] >= '0' && digits[n] <= '9' {
		n++
	}
	return strconv.Atoi(digits[:n])
}

// TestReaders_PGProxy: through a READ_ONLY endpoint created with the aws
// CLI, reads land on the standby and writes get PostgreSQL's read-only
// error; once the standby's replay is paused and WAL waits for it longer
// than max_replica_lag, the same client's reads get the no-reader error
// (no writer fallback), and land on the standby again after it caught up.
func TestReaders_PGProxy(t *testing.T) {
	e := newReaderEnv(t, "pg", false)
	ctx := context.Background()
	replica, primary := port(t, e.r.PGReplica), port(t, e.r.PGPrimary)
	dial := func() (*pgx.Conn, error) {
		c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://sqlgate:sqlgatepw@%s/sqlgate_test?sslmode=disable", e.ro))
		if err == nil {
			t.Cleanup(func() { _ = c.Close(context.Background()) })
		}
		return c, err
	}
	serverPort := func(c *pgx.Conn) (int, error) {
		var p int
		err := c.QueryRow(ctx, "select inet_server_port()").Scan(&p)
		return p, err
	}
	var ro *pgx.Conn
	testdb.EventuallyState(t, 30*time.Second, 100*time.Millisecond, func() (bool, string) {
		if ro == nil { // the first login needs a reader too
			c, err := dial()
			if err != nil {
				return false, fmt.Sprintf("connect: %v", err)
			}
			ro = c
		}
		p, err := serverPort(ro)
		return err == nil && p == replica, fmt.Sprintf("read through the endpoint: port %d, %v", p, err)
	})
	for i := 0; i < 3; i++ {
		c, err := dial()
		if err != nil {
			t.Fatal(err)
		}
		if p, err := serverPort(c); err != nil || p != replica {
			t.Fatalf("new client %d: port %d, %v; want the replica %d", i, p, err, replica)
		}
	}
	if v := e.metric(t, `sqlgate_topology_reader_connections{cluster="pg",instance="`+e.r.PGReplica+`"}`); v == "" || v == "0" {
		t.Fatalf("reader connections to the replica = %q, want some", v)
	}
	_, err := ro.Exec(ctx, "create table readers_pg_probe (i int)")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "25006" {
		t.Fatalf("a write through the read-only endpoint: %v, want SQLSTATE 25006 (read_only_sql_transaction)", err)
	}
	if p, err := serverPort(ro); err != nil || p != replica {
		t.Fatalf("after the refused write: port %d, %v", p, err)
	}
	testdb.EventuallyState(t, 10*time.Second, 100*time.Millisecond, func() (bool, string) {
		p, err := e.endpointPort("pg")
		return err == nil && p == replica, fmt.Sprintf("SQL endpoint with target reader: port %d, %v", p, err)
	})

	// Tracked session state follows the client to whichever reader
	// connection serves it next, and never leaks to another client.
	if _, err := ro.Exec(ctx, "set work_mem = '7MB'"); err != nil {
		t.Fatal(err)
	}
	writer := e.rs.pgConnect(t)
	if _, err := writer.Exec(ctx, "create table if not exists readers_pg_lag (i int)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = writer.Exec(context.Background(), "drop table if exists readers_pg_lag") })
	if p, err := serverPort(writer); err != nil || p != primary {
		t.Fatalf("the writer endpoint: port %d, %v; want the primary %d", p, err, primary)
	}
	e.script("pause", "postgres")
	testdb.EventuallyState(t, 30*time.Second, 200*time.Millisecond, func() (bool, string) {
		if _, err := writer.Exec(ctx, "insert into readers_pg_lag values (1)"); err != nil {
			return false, fmt.Sprintf("write on the primary: %v", err)
		}
		p, err := serverPort(ro)
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "08006" && strings.Contains(pe.Message, "no reader instance"),
			fmt.Sprintf("read with replay paused: port %d, %v", p, err)
	})
	if _, err := e.endpointPort("pg"); err == nil || !strings.Contains(err.Error(), ": 503 ") {
		t.Fatalf("the SQL endpoint with target reader while the only reader lagged: %v, want 503", err)
	}
	e.script("resume", "postgres")
	testdb.EventuallyState(t, 30*time.Second, 100*time.Millisecond, func() (bool, string) {
		p, err := serverPort(ro)
		return err == nil && p == replica, fmt.Sprintf("the same client after the replica caught up: port %d, %v", p, err)
	})
	var wm string
	if err := ro.QueryRow(ctx, "show work_mem").Scan(&wm); err != nil || wm != "7MB" {
		t.Fatalf("work_mem of the client on a new reader connection = %q, %v; want its 7MB", wm, err)
	}
	other, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	if err := other.QueryRow(ctx, "show work_mem").Scan(&wm); err != nil || wm == "7MB" {
		t.Fatalf("work_mem of another client = %q, %v; want the server default", wm, err)
	}
}

// TestReaders_MySQLProxy: the same for MariaDB with the writer fallback
// on, through the endpoint created with the aws CLI and the one declared
// in the file: reads land on the replica (@@server_id 2), writes get
// MariaDB's read-only error 1290; with replication stopped on the replica
// the same client's reads go to the writer (server 1), and back to the
// replica once it applies again.
func TestReaders_MySQLProxy(t *testing.T) {
	e := newReaderEnv(t, "maria", true)
	ctx := context.Background()
	conn := func(addr string) *sql.Conn {
		t.Helper()
		mc := gomysql.NewConfig()
		mc.User, mc.Passwd, mc.Net, mc.Addr, mc.DBName = "sqlgate_app", "sqlgatepw", "tcp", addr, "sqlgate_test"
		mc.Timeout = 10 * time.Second
		db, err := sql.Open("mysql", mc.FormatDSN())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		var c *sql.Conn
		testdb.EventuallyState(t, 30*time.Second, 100*time.Millisecond, func() (bool, string) {
			c, err = db.Conn(ctx)
			return err == nil, fmt.Sprintf("connect to %s: %v", addr, err)
		})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	serverID := func(c *sql.Conn) (int, error) {
		var id int
		err := c.QueryRowContext(ctx, "SELECT @@server_id").Scan(&id)
		return id, err
	}
	ro, fileRO := conn(e.ro), conn(e.fileRO)
	for name, c := range map[string]*sql.Conn{"aws CLI endpoint": ro, "file endpoint": fileRO} {
		testdb.EventuallyState(t, 30*time.Second, 100*time.Millisecond, func() (bool, string) {
			id, err := serverID(c)
			return err == nil && id == 2, fmt.Sprintf("%s: server id %d, %v", name, id, err)
		})
	}
	_, err := ro.ExecContext(ctx, "CREATE TABLE readers_my_probe (i INT)")
	var me *gomysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1290 {
		t.Fatalf("a write through the read-only endpoint: %v, want error 1290 (--read-only)", err)
	}
	replica := port(t, e.r.MySQLReplica)
	testdb.EventuallyState(t, 10*time.Second, 100*time.Millisecond, func() (bool, string) {
		p, err := e.endpointPort("maria")
		return err == nil && p == replica, fmt.Sprintf("SQL endpoint with target reader: port %d, %v", p, err)
	})

	if _, err := ro.ExecContext(ctx, "SET SESSION time_zone = '+03:00'"); err != nil {
		t.Fatal(err)
	}
	e.script("pause", "mariadb")
	testdb.EventuallyState(t, 30*time.Second, 100*time.Millisecond, func() (bool, string) {
		id, err := serverID(ro)
		return err == nil && id == 1, fmt.Sprintf("replication stopped, writer fallback: server id %d, %v", id, err)
	})
	e.script("resume", "mariadb")
	testdb.EventuallyState(t, 30*time.Second, 100*time.Millisecond, func() (bool, string) {
		id, err := serverID(ro)
		return err == nil && id == 2, fmt.Sprintf("replication applying again: server id %d, %v", id, err)
	})
	tz := func(c *sql.Conn) string {
		var s string
		if err := c.QueryRowContext(ctx, "SELECT @@session.time_zone").Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if got := tz(ro); got != "+03:00" {
		t.Fatalf("time_zone of the client back on the replica = %q, want its +03:00", got)
	}
	if got := tz(conn(e.ro)); got == "+03:00" {
		t.Fatal("another client of the read-only endpoint sees the first one's time_zone")
	}
}

// secretInput is a CreateSecret input for username/password.
func secretInput(name, user, password string) *secretsmanager.CreateSecretInput {
	v := fmt.Sprintf(`{"username":%q,"password":%q}`, user, password)
	return &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(v)}
}
