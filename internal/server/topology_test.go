package server

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata/types"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/engine/mysql"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// replicatedEnv starts a server with one MariaDB cluster "repl" over the
// topology of e2e/replicas.sh and runs its health checks; it returns the
// environment, a function returning @@server_id through the Data API
// (1 = primary, 2 = replica) and the script runner.
func replicatedEnv(t *testing.T) (r testdb.Replicas, serverID func() (int64, error), script func(...string)) {
	r = testdb.NeedReplicas(t)
	script = func(args ...string) {
		t.Helper()
		if out, err := exec.Command("bash", append([]string{r.Script}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("replicas.sh %v: %v\n%s", args, err, out)
		}
	}
	script("start", "mariadb")
	t.Cleanup(func() { script("start", "mariadb") })
	cfg := configFor(dbTarget{cluster: config.Cluster{Name: "repl", Engine: "mysql", Database: "sqlgate_test",
		Instances:   []config.Instance{{Address: r.MySQLPrimary, Role: config.RoleWriter}, {Address: r.MySQLReplica, Role: config.RoleReader}},
		HealthCheck: config.HealthCheck{Interval: 200 * time.Millisecond, Secret: "repl-login"}}})
	env := newTestEnv(t, cfg)
	secret := env.createSecret(t, "repl-login", "sqlgate", "sqlgatepw")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { env.srv.clusters[0].topo.mon.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	serverID = func() (int64, error) {
		out, err := env.data.ExecuteStatement(context.Background(), &rdsdata.ExecuteStatementInput{
			ResourceArn: aws.String(env.clusterARN("repl")), SecretArn: aws.String(secret),
			Sql: aws.String("SELECT @@server_id")})
		if err != nil {
			return 0, err
		}
		return out.Records[0][0].(*types.FieldMemberLongValue).Value, nil
	}
	if id, err := serverID(); err != nil || id != 1 {
		t.Fatalf("server id before failover = %d, %v; want 1 (the primary)", id, err)
	}
	return r, serverID, script
}

// TestTopology_DataAPIFollowsWriter: after the primary dies and the
// replica is promoted, Data API statements land on the promoted replica
// without a config change.
func TestTopology_DataAPIFollowsWriter(t *testing.T) {
	_, serverID, script := replicatedEnv(t)
	script("kill", "mariadb", "primary")
	script("promote", "mariadb")
	testdb.Eventually(t, 30*time.Second, 100*time.Millisecond, "Data API on the promoted replica", func() bool {
		id, err := serverID()
		return err == nil && id == 2
	})
}

// TestTopology_DataAPISwitchover promotes the replica and makes the old
// primary read-only while it stays up: pooled connections to it still
// answer pings, but once the writer moved none of them is reused, so
// every statement after the first on the new writer lands there too.
func TestTopology_DataAPISwitchover(t *testing.T) {
	r, serverID, script := replicatedEnv(t)
	script("promote", "mariadb")
	setReadOnly(t, r.MySQLPrimary)
	testdb.Eventually(t, 30*time.Second, 100*time.Millisecond, "Data API on the promoted replica", func() bool {
		id, err := serverID()
		return err == nil && id == 2
	})
	for i := 0; i < 5; i++ {
		if id, err := serverID(); err != nil || id != 2 {
			t.Fatalf("call %d after the switchover: server id %d, %v; want 2", i, id, err)
		}
	}
}

// setReadOnly makes the MariaDB server at addr read-only, as an operator
// demoting it would.
func setReadOnly(t *testing.T, addr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := mysql.New(mysql.Config{Address: addr}).Connect(ctx, engine.Credentials{User: "sqlgate", Password: "sqlgatepw"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Exec(ctx, "SET GLOBAL read_only = 1", nil, 0); err != nil {
		t.Fatal(err)
	}
}
