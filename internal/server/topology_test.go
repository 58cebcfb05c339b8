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
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// TestTopology_DataAPIFollowsWriter runs the Data API on a cluster with
// instances (e2e/replicas.sh, MariaDB): statements land on the primary;
// after the primary dies and the replica is promoted, they land on the
// promoted replica without a config change.
func TestTopology_DataAPIFollowsWriter(t *testing.T) {
	r := testdb.NeedReplicas(t)
	script := func(args ...string) {
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

	serverID := func() (int64, error) {
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
	script("kill", "mariadb", "primary")
	script("promote", "mariadb")
	testdb.Eventually(t, 30*time.Second, 100*time.Millisecond, "Data API on the promoted replica", func() bool {
		id, err := serverID()
		return err == nil && id == 2
	})
}
