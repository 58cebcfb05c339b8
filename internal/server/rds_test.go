package server

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/jackc/pgx/v5"

	"github.com/sqlgate/sqlgate/internal/testdb"
)

// freePorts returns a range "FIRST-LAST" of n ports that are free now on
// 127.0.0.1 (and 127.0.0.2, for the two-node test).
func freePorts(t *testing.T, n int) string {
	t.Helper()
	for range 50 {
		first := 20000 + rand.IntN(12000-n) // below the ephemeral ports (ip_local_port_range)
		ok := true
		for p := first; p < first+n && ok; p++ {
			for _, h := range []string{"127.0.0.1", "127.0.0.2"} {
				l, err := net.Listen("tcp", net.JoinHostPort(h, strconv.Itoa(p)))
				if err != nil {
					ok = false
					break
				}
				_ = l.Close()
			}
		}
		if ok {
			return fmt.Sprintf("%d-%d", first, first+n-1)
		}
	}
	t.Fatal("no free port range")
	return ""
}

// rdsClient is an aws-sdk-go-v2 RDS client on the server's HTTP listener.
func rdsClient(srv *Server) *rds.Client {
	return rds.New(rds.Options{BaseEndpoint: aws.String("http://" + srv.Addrs()[0].String()), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(testAKID, testSecret, ""), RetryMaxAttempts: 1})
}

// wantAWSError checks an SDK error's code and HTTP status.
func wantAWSError(t *testing.T, err error, code string, status int) {
	t.Helper()
	var re *smithyhttp.ResponseError
	if errorCode(err) != code || !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Fatalf("got %v, want %s (HTTP %d)", err, code, status)
	}
}

// pgAt connects to a PostgreSQL proxy at addr with the test login.
func pgAt(ctx context.Context, tg dbTarget, addr string) (*pgx.Conn, error) {
	u := fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=disable", url.PathEscape(tg.user), url.PathEscape(tg.password),
		addr, tg.cluster.Database)
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return pgx.Connect(cctx, u)
}

func TestRDS_DataAPISwitch(t *testing.T) {
	ctx := context.Background()
	pg, my := proxyTargets(t, 4)
	cfg := configFor(pg, my)
	cfg.RDS.ProxyPorts = freePorts(t, 4)
	rs := startRunning(t, cfg, pg, my)
	c := rdsClient(rs.srv)

	out, err := c.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.DBClusters) != 2 || aws.ToString(out.DBClusters[0].DBClusterIdentifier) != "pg" ||
		!aws.ToBool(out.DBClusters[0].HttpEndpointEnabled) || aws.ToString(out.DBClusters[0].Engine) != "postgres" ||
		aws.ToString(out.DBClusters[0].DBClusterArn) != rs.srv.ClusterARN("pg") || aws.ToInt32(out.DBClusters[0].Port) == 0 {
		t.Fatalf("DescribeDBClusters: %+v", out.DBClusters)
	}
	arnPG := rs.srv.ClusterARN("pg")
	dis, err := c.DisableHttpEndpoint(ctx, &rds.DisableHttpEndpointInput{ResourceArn: aws.String(arnPG)})
	if err != nil || aws.ToBool(dis.HttpEndpointEnabled) {
		t.Fatalf("DisableHttpEndpoint: %+v %v", dis, err)
	}
	testdb.Eventually(t, 5*time.Second, 10*time.Millisecond, "Data API refused", func() bool {
		return errorCode(rs.dataAPI(ctx, "pg", "select 1")) == "BadRequestException"
	})
	if err := rs.dataAPI(ctx, "maria", "select 1"); err != nil {
		t.Fatalf("the other cluster's Data API: %v", err)
	}
	one, err := c.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String("pg")})
	if err != nil || len(one.DBClusters) != 1 || aws.ToBool(one.DBClusters[0].HttpEndpointEnabled) {
		t.Fatalf("describe after disable: %+v %v", one, err)
	}
	if _, err := c.EnableHttpEndpoint(ctx, &rds.EnableHttpEndpointInput{ResourceArn: aws.String(arnPG)}); err != nil {
		t.Fatal(err)
	}
	testdb.Eventually(t, 5*time.Second, 10*time.Millisecond, "Data API back", func() bool {
		return rs.dataAPI(ctx, "pg", "select 1") == nil
	})

	_, err = c.DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{DBClusterIdentifier: aws.String("nope")})
	wantAWSError(t, err, "DBClusterNotFoundFault", 404)
	_, err = c.EnableHttpEndpoint(ctx, &rds.EnableHttpEndpointInput{ResourceArn: aws.String(rs.srv.ClusterARN("nope"))})
	wantAWSError(t, err, "ResourceNotFoundFault", 404)
	_, err = c.EnableHttpEndpoint(ctx, &rds.EnableHttpEndpointInput{ResourceArn: aws.String("not-an-arn")})
	wantAWSError(t, err, "InvalidParameterValue", 400)
}

// TestRDS_ProxyOnline creates, uses, modifies and deletes a proxy through
// the SDK while a client of the file-declared proxy keeps its session.
func TestRDS_ProxyOnline(t *testing.T) {
	ctx := context.Background()
	pg, my := proxyTargets(t, 6)
	cfg := configFor(pg, my)
	cfg.RDS.ProxyPorts = freePorts(t, 6)
	rs := startRunning(t, cfg, pg, my)
	c := rdsClient(rs.srv)
	bystander := rs.pgConnect(t)
	alive := func() {
		t.Helper()
		if _, err := bystander.Exec(ctx, "select 1"); err != nil {
			t.Fatalf("the file proxy's client: %v", err)
		}
	}

	created, err := c.CreateDBProxy(ctx, &rds.CreateDBProxyInput{DBProxyName: aws.String("online-pg"),
		EngineFamily: rdstypes.EngineFamilyPostgresql, RoleArn: aws.String("arn:aws:iam::000000000000:role/proxy"),
		VpcSubnetIds: []string{"subnet-1"},
		Auth: []rdstypes.UserAuthConfig{{AuthScheme: rdstypes.AuthSchemeSecrets, SecretArn: aws.String("pg-proxy"),
			IAMAuth: rdstypes.IAMAuthModeEnabled}},
		Tags: []rdstypes.Tag{{Key: aws.String("team"), Value: aws.String("a")}}})
	if err != nil {
		t.Fatal(err)
	}
	p := created.DBProxy
	if aws.ToString(p.DBProxyName) != "online-pg" || aws.ToString(p.EngineFamily) != "POSTGRESQL" || aws.ToString(p.Endpoint) == "" {
		t.Fatalf("CreateDBProxy: %+v", p)
	}
	_, err = c.CreateDBProxy(ctx, &rds.CreateDBProxyInput{DBProxyName: aws.String("online-pg"),
		EngineFamily: rdstypes.EngineFamilyPostgresql, RoleArn: aws.String("r"), VpcSubnetIds: []string{"s"},
		Auth: []rdstypes.UserAuthConfig{{SecretArn: aws.String("pg-proxy")}}})
	wantAWSError(t, err, "DBProxyAlreadyExistsFault", 400)
	_, err = c.RegisterDBProxyTargets(ctx, &rds.RegisterDBProxyTargetsInput{DBProxyName: aws.String("online-pg"), DBClusterIdentifiers: []string{"nope"}})
	wantAWSError(t, err, "DBClusterNotFoundFault", 404)
	_, err = c.RegisterDBProxyTargets(ctx, &rds.RegisterDBProxyTargetsInput{DBProxyName: aws.String("online-pg"), DBClusterIdentifiers: []string{"maria"}})
	wantAWSError(t, err, "InvalidDBClusterStateFault", 400)
	if _, err := c.RegisterDBProxyTargets(ctx, &rds.RegisterDBProxyTargetsInput{DBProxyName: aws.String("online-pg"),
		DBClusterIdentifiers: []string{"pg"}}); err != nil {
		t.Fatal(err)
	}

	desc, err := c.DescribeDBProxies(ctx, &rds.DescribeDBProxiesInput{DBProxyName: aws.String("online-pg")})
	if err != nil || len(desc.DBProxies) != 1 {
		t.Fatalf("DescribeDBProxies: %+v %v", desc, err)
	}
	addr := aws.ToString(desc.DBProxies[0].Endpoint)
	var conn *pgx.Conn
	testdb.Eventually(t, 5*time.Second, 20*time.Millisecond, "online proxy serves", func() bool {
		conn, err = pgAt(ctx, pg, addr)
		return err == nil
	})
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "select 41 + 1").Scan(&n); err != nil || n != 42 {
		t.Fatalf("through the online proxy: %d %v", n, err)
	}
	alive()

	tg, err := c.DescribeDBProxyTargets(ctx, &rds.DescribeDBProxyTargetsInput{DBProxyName: aws.String("online-pg")})
	if err != nil || len(tg.Targets) != 2 || tg.Targets[1].TargetHealth == nil || tg.Targets[1].TargetHealth.State != rdstypes.TargetStateAvailable {
		t.Fatalf("DescribeDBProxyTargets: %+v %v", tg, err)
	}

	// Modify the pool while the client stays connected.
	mod, err := c.ModifyDBProxyTargetGroup(ctx, &rds.ModifyDBProxyTargetGroupInput{DBProxyName: aws.String("online-pg"),
		TargetGroupName: aws.String("default"), ConnectionPoolConfig: &rdstypes.ConnectionPoolConfiguration{
			ConnectionBorrowTimeout: aws.Int32(7), MaxConnectionsPercent: aws.Int32(50), InitQuery: aws.String("SET lock_timeout = '4321ms'")}})
	if err != nil {
		t.Fatal(err)
	}
	if pc := mod.DBProxyTargetGroup.ConnectionPoolConfig; aws.ToInt32(pc.ConnectionBorrowTimeout) != 7 || aws.ToInt32(pc.MaxConnectionsPercent) != 50 {
		t.Fatalf("ModifyDBProxyTargetGroup: %+v", pc)
	}
	testdb.Eventually(t, 5*time.Second, 10*time.Millisecond, "pool settings applied", func() bool {
		rs.srv.proxyRT.mu.Lock()
		defer rs.srv.proxyRT.mu.Unlock()
		var rp *runningProxy
		for _, x := range rs.srv.proxyRT.running {
			if x.name == "online-pg" {
				rp = x
			}
		}
		return rp != nil && rp.listeners[""].cfg.BorrowTimeout == 7*time.Second && rp.listeners[""].fe.Core().Config().MaxConnectionsPercent == 50
	})
	// The client keeps its session; a new backend connection (the old one
	// is held by the client's transaction) runs the new init query.
	if _, err := conn.Exec(ctx, "begin; select 1"); err != nil {
		t.Fatalf("the online proxy's client after modify: %v", err)
	}
	var app string
	fresh, err := pgAt(ctx, pg, addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = fresh.QueryRow(ctx, "show lock_timeout").Scan(&app)
	fresh.Close(ctx)
	if _, err := conn.Exec(ctx, "commit"); err != nil {
		t.Fatal(err)
	}
	alive()

	// Endpoints: an additional listener.
	ep, err := c.CreateDBProxyEndpoint(ctx, &rds.CreateDBProxyEndpointInput{DBProxyName: aws.String("online-pg"),
		DBProxyEndpointName: aws.String("online-pg-ro"), VpcSubnetIds: []string{"subnet-1"}})
	if err != nil {
		t.Fatal(err)
	}
	testdb.Eventually(t, 5*time.Second, 20*time.Millisecond, "endpoint serves", func() bool {
		c2, err := pgAt(ctx, pg, aws.ToString(ep.DBProxyEndpoint.Endpoint))
		if err == nil {
			c2.Close(ctx)
		}
		return err == nil
	})
	eps, err := c.DescribeDBProxyEndpoints(ctx, &rds.DescribeDBProxyEndpointsInput{DBProxyName: aws.String("online-pg")})
	if err != nil || len(eps.DBProxyEndpoints) != 2 || !aws.ToBool(eps.DBProxyEndpoints[0].IsDefault) {
		t.Fatalf("DescribeDBProxyEndpoints: %+v %v", eps, err)
	}
	if _, err := c.DeleteDBProxyEndpoint(ctx, &rds.DeleteDBProxyEndpointInput{DBProxyEndpointName: aws.String("online-pg-ro")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteDBProxyEndpoint(ctx, &rds.DeleteDBProxyEndpointInput{DBProxyEndpointName: aws.String("online-pg-ro")})
	wantAWSError(t, err, "DBProxyEndpointNotFoundFault", 404)

	// Tags.
	arnProxy := aws.ToString(p.DBProxyArn)
	if _, err := c.AddTagsToResource(ctx, &rds.AddTagsToResourceInput{ResourceName: aws.String(arnProxy),
		Tags: []rdstypes.Tag{{Key: aws.String("env"), Value: aws.String("test")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RemoveTagsFromResource(ctx, &rds.RemoveTagsFromResourceInput{ResourceName: aws.String(arnProxy), TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTagsForResource(ctx, &rds.ListTagsForResourceInput{ResourceName: aws.String(arnProxy)})
	if err != nil || len(tags.TagList) != 1 || aws.ToString(tags.TagList[0].Key) != "env" {
		t.Fatalf("ListTagsForResource: %+v %v", tags, err)
	}

	// Delete while the client is connected: its session ends, the file
	// proxy's client stays.
	if _, err := c.DeleteDBProxy(ctx, &rds.DeleteDBProxyInput{DBProxyName: aws.String("online-pg")}); err != nil {
		t.Fatal(err)
	}
	testdb.Eventually(t, 15*time.Second, 50*time.Millisecond, "online proxy gone", func() bool {
		_, err := conn.Exec(ctx, "select 1")
		return err != nil
	})
	if c3, err := pgAt(ctx, pg, addr); err == nil {
		c3.Close(ctx)
		t.Fatal("the deleted proxy still accepts clients")
	}
	alive()
	_, err = c.DescribeDBProxies(ctx, &rds.DescribeDBProxiesInput{DBProxyName: aws.String("online-pg")})
	wantAWSError(t, err, "DBProxyNotFoundFault", 404)
	if app != "4321ms" {
		t.Fatalf("init query on a new backend connection: lock_timeout %q", app)
	}
}
