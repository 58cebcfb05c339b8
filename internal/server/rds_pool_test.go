package server

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/sqlgate/sqlgate/internal/testdb"
)

// txClient is one client of a proxy that holds a backend connection
// while its transaction is open.
type txClient interface {
	exec(ctx context.Context, q string) error
	close()
}

type pgxClient struct{ c *pgx.Conn }

func (p pgxClient) exec(ctx context.Context, q string) error { _, err := p.c.Exec(ctx, q); return err }
func (p pgxClient) close()                                   { _ = p.c.Close(context.Background()) }

type myClient struct {
	db *sql.DB
	c  *sql.Conn
}

func (m myClient) exec(ctx context.Context, q string) error {
	_, err := m.c.ExecContext(ctx, q)
	return err
}
func (m myClient) close() { _ = m.c.Close(); _ = m.db.Close() }

// openClient connects to the proxy at addr as user.
func openClient(ctx context.Context, t *testing.T, tg dbTarget, addr, user, pw string) txClient {
	t.Helper()
	tg.user, tg.password = user, pw
	if tg.cluster.Engine == "postgres" {
		c, err := pgAt(ctx, tg, addr)
		if err != nil {
			t.Fatalf("connect through the proxy: %v", err)
		}
		return pgxClient{c}
	}
	mc := mysql.NewConfig()
	mc.User, mc.Passwd, mc.Net, mc.Addr, mc.DBName = user, pw, "tcp", addr, tg.cluster.Database
	mc.Timeout = 10 * time.Second
	db, err := sql.Open("mysql", mc.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.Conn(ctx)
	if err == nil {
		err = c.PingContext(ctx)
	}
	if err != nil {
		t.Fatalf("connect through the proxy: %v", err)
	}
	return myClient{db, c}
}

// TestRDS_PoolShrinks: lowering MaxConnectionsPercent closes the proxy's
// idle backend connections above the new bound at once and its busy ones
// when their transactions end; lowering MaxIdleConnectionsPercent trims
// idle ones. The database's own count of sessions (pg_stat_activity,
// information_schema.processlist) of a login made for this test is the
// measure.
func TestRDS_PoolShrinks(t *testing.T) {
	for _, engine := range []string{"postgres", "mysql"} {
		t.Run(engine, func(t *testing.T) { testPoolShrinks(t, engine) })
	}
}

func testPoolShrinks(t *testing.T, engine string) {
	ctx := context.Background()
	f := &faultEnv{engine: engine}
	count := ""
	if engine == "postgres" {
		f.admin = openPGAdmin(t, testdb.PGURL(t))
	} else {
		f.admin = openMySQLAdmin(t, testdb.MySQLDSN(t))
	}
	user, pw := f.createLogin(t) // before the server: dropped after it stops
	if engine == "postgres" {
		count = "select count(*) from pg_stat_activity where usename = '" + user + "'"
	} else {
		count = "select count(*) from information_schema.processlist where user = '" + user + "'"
	}
	backends := func() int { return f.admin.count(t, count) }
	pg, my := proxyTargets(t, 10)
	cfg := configFor(pg, my)
	cfg.RDS.ProxyPorts = freePorts(t, 4)
	rs := startRunning(t, cfg, pg, my)
	c := rdsClient(rs.srv)
	tg, cluster, fam := pg, "pg", rdstypes.EngineFamilyPostgresql
	if engine == "mysql" {
		tg, cluster, fam = my, "maria", rdstypes.EngineFamilyMysql
	}
	if _, err := rs.secrets.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("shrink-login"),
		SecretString: aws.String(fmt.Sprintf(`{"username":%q,"password":%q}`, user, pw))}); err != nil {
		t.Fatal(err)
	}
	created, err := c.CreateDBProxy(ctx, &rds.CreateDBProxyInput{DBProxyName: aws.String("shrink"), EngineFamily: fam,
		RoleArn: aws.String("r"), VpcSubnetIds: []string{"s"},
		Auth: []rdstypes.UserAuthConfig{{SecretArn: aws.String("shrink-login")}}})
	if err != nil {
		t.Fatal(err)
	}
	if st := created.DBProxy.Status; st != "creating" {
		t.Fatalf("CreateDBProxy status %q, want creating", st)
	}
	if _, err := c.RegisterDBProxyTargets(ctx, &rds.RegisterDBProxyTargetsInput{DBProxyName: aws.String("shrink"),
		DBClusterIdentifiers: []string{cluster}}); err != nil {
		t.Fatal(err)
	}
	addr := waitProxyStatus(t, c, "shrink", "available")

	clients := make([]txClient, 6)
	for i := range clients {
		clients[i] = openClient(ctx, t, tg, addr, user, pw)
		defer clients[i].close()
		if err := clients[i].exec(ctx, "begin"); err != nil {
			t.Fatal(err)
		}
		if err := clients[i].exec(ctx, "select 1"); err != nil {
			t.Fatal(err)
		}
	}
	testdb.Eventually(t, 10*time.Second, 20*time.Millisecond, "6 backends", func() bool { return backends() == 6 })
	commit := func(i int) {
		t.Helper()
		if err := clients[i].exec(ctx, "commit"); err != nil {
			t.Fatal(err)
		}
	}
	commit(0)
	commit(1) // 4 busy, 2 idle in the pool
	if n := backends(); n != 6 {
		t.Fatalf("%d backends after two commits, want 6 (two idle in the pool)", n)
	}
	modifyPool(t, c, &rdstypes.ConnectionPoolConfiguration{MaxConnectionsPercent: aws.Int32(20)}) // 2 of 10
	testdb.Eventually(t, 10*time.Second, 20*time.Millisecond, "idle backends above the bound closed",
		func() bool { return backends() == 4 })
	commit(2)
	commit(3) // returned above the bound: closed
	// The database counts a session gone a moment before the proxy has
	// released its slot (it waits for the server to close the socket):
	// a commit in between would find the share still over its bound.
	busy := `sqlgate_pool_connections{cluster="` + cluster + `",state="busy"}`
	testdb.Eventually(t, 10*time.Second, 20*time.Millisecond, "returned backends above the bound closed",
		func() bool { return backends() == 2 && metricOf(t, rs, busy) == "2" })
	commit(4)
	commit(5) // within the bound: kept
	if n := backends(); n != 2 {
		t.Fatalf("%d backends after the last commits, want 2", n)
	}
	modifyPool(t, c, &rdstypes.ConnectionPoolConfiguration{MaxConnectionsPercent: aws.Int32(100), MaxIdleConnectionsPercent: aws.Int32(10)})
	testdb.Eventually(t, 10*time.Second, 20*time.Millisecond, "idle backends trimmed to 1",
		func() bool { return backends() == 1 })
	waitProxyStatus(t, c, "shrink", "available")
	// The clients still work.
	for _, cl := range clients {
		if err := cl.exec(ctx, "select 1"); err != nil {
			t.Fatalf("a client after the pool shrank: %v", err)
		}
	}
}

// modifyPool changes the shrink proxy's pool and checks the answer.
func modifyPool(t *testing.T, c *rds.Client, pc *rdstypes.ConnectionPoolConfiguration) {
	t.Helper()
	out, err := c.ModifyDBProxyTargetGroup(context.Background(), &rds.ModifyDBProxyTargetGroupInput{DBProxyName: aws.String("shrink"),
		TargetGroupName: aws.String("default"), ConnectionPoolConfig: pc})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.DBProxyTargetGroup.ConnectionPoolConfig; aws.ToInt32(got.MaxConnectionsPercent) != aws.ToInt32(pc.MaxConnectionsPercent) {
		t.Fatalf("ModifyDBProxyTargetGroup: %+v", got)
	}
}

// waitProxyStatus waits until DescribeDBProxies reports status for name
// and returns its endpoint.
func waitProxyStatus(t *testing.T, c *rds.Client, name, status string) string {
	t.Helper()
	var p rdstypes.DBProxy
	testdb.EventuallyState(t, 10*time.Second, 20*time.Millisecond, func() (bool, string) {
		out, err := c.DescribeDBProxies(context.Background(), &rds.DescribeDBProxiesInput{DBProxyName: aws.String(name)})
		if err != nil || len(out.DBProxies) != 1 {
			return false, fmt.Sprint(err)
		}
		p = out.DBProxies[0]
		return p.Status == rdstypes.DBProxyStatus(status), string(p.Status)
	})
	return aws.ToString(p.Endpoint)
}

// TestRDS_ProxyStatus: a proxy whose listen address is taken reports
// incompatible-network, its endpoint likewise, and available once the
// address is free; a cluster whose database does not answer is failed.
func TestRDS_ProxyStatus(t *testing.T) {
	ctx := context.Background()
	pg, my := proxyTargets(t, 4)
	// A cluster whose database does not answer: a port nothing listens on.
	down := pgTarget(t, "down")
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down.cluster.Address = closed.Addr().String()
	_ = closed.Close()
	cfg := configFor(pg, my, down)
	cfg.RDS.ProxyPorts = freePorts(t, 4)
	rs := startRunning(t, cfg, pg, my)
	c := rdsClient(rs.srv)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	if _, err := c.CreateDBProxy(ctx, &rds.CreateDBProxyInput{DBProxyName: aws.String("clash"),
		EngineFamily: rdstypes.EngineFamilyPostgresql, RoleArn: aws.String("r"), VpcSubnetIds: []string{"s"},
		Auth: []rdstypes.UserAuthConfig{{SecretArn: aws.String("pg-proxy")}},
		Tags: []rdstypes.Tag{{Key: aws.String("sqlgate:listen"), Value: aws.String(taken.Addr().String())}}}); err != nil {
		t.Fatal(err)
	}
	// Without a target nothing listens: the proxy is available.
	waitProxyStatus(t, c, "clash", "available")
	if _, err := c.RegisterDBProxyTargets(ctx, &rds.RegisterDBProxyTargetsInput{DBProxyName: aws.String("clash"),
		DBClusterIdentifiers: []string{"pg"}}); err != nil {
		t.Fatal(err)
	}
	waitProxyStatus(t, c, "clash", "incompatible-network")
	eps, err := c.DescribeDBProxyEndpoints(ctx, &rds.DescribeDBProxyEndpointsInput{DBProxyName: aws.String("clash")})
	if err != nil || len(eps.DBProxyEndpoints) != 1 || eps.DBProxyEndpoints[0].Status != rdstypes.DBProxyEndpointStatusIncompatibleNetwork {
		t.Fatalf("DescribeDBProxyEndpoints: %+v %v", eps, err)
	}
	_ = taken.Close() // the runtime retries the bind
	waitProxyStatus(t, c, "clash", "available")
	cl, err := c.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{})
	if err != nil || len(cl.DBClusters) != 3 {
		t.Fatalf("DescribeDBClusters: %+v %v", cl, err)
	}
	for _, x := range cl.DBClusters {
		want := "available"
		if aws.ToString(x.DBClusterIdentifier) == "down" {
			want = "failed"
		}
		if aws.ToString(x.Status) != want {
			t.Errorf("cluster %s: status %s, want %s", aws.ToString(x.DBClusterIdentifier), aws.ToString(x.Status), want)
		}
	}
}
