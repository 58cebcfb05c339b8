package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	_ "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/sqlgate/sqlgate/internal/testdb"
)

// shutdownDB is one backend of the SIGTERM test: the cluster as sqlgate
// sees it, the login for its secret and a direct connection for checks.
type shutdownDB struct {
	name, engine, addr, db, user, password string
	direct                                 directDB
}

// directDB is the little of database/sql or pgx the test needs.
type directDB interface {
	exec(sql string) error
	notes(sql string) ([]string, error) // "id:note" per row
}

type mysqlDirect struct{ db *sql.DB }

func (m mysqlDirect) exec(q string) error { _, err := m.db.Exec(q); return err }

func (m mysqlDirect) notes(q string) ([]string, error) {
	rows, err := m.db.Query(q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id int
		var note string
		if err := rows.Scan(&id, &note); err != nil {
			return nil, err
		}
		got = append(got, fmt.Sprintf("%d:%s", id, note))
	}
	return got, rows.Err()
}

type pgDirect struct{ c *pgx.Conn }

func (p pgDirect) exec(q string) error {
	_, err := p.c.Exec(context.Background(), q)
	return err
}

func (p pgDirect) notes(q string) ([]string, error) {
	rows, err := p.c.Query(context.Background(), q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id int32
		var note string
		if err := rows.Scan(&id, &note); err != nil {
			return nil, err
		}
		got = append(got, fmt.Sprintf("%d:%s", id, note))
	}
	return got, rows.Err()
}

func mysqlShutdownDB(t *testing.T) shutdownDB {
	dsn := testdb.MySQLDSN(t)
	re := regexp.MustCompile(`^([^:]*):([^@]*)@tcp\(([^)]*)\)/([^?]*)`)
	m := re.FindStringSubmatch(dsn)
	if m == nil {
		t.Fatalf("cannot parse SQLGATE_TEST_MYSQL_DSN")
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return shutdownDB{name: "maria", engine: "mysql", addr: m[3], db: m[4], user: m[1], password: m[2], direct: mysqlDirect{db}}
}

func pgShutdownDB(t *testing.T) shutdownDB {
	raw := testdb.PGURL(t)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	host := u.Host
	if u.Port() == "" {
		host += ":5432"
	}
	c, err := pgx.Connect(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return shutdownDB{name: "pg", engine: "postgres", addr: host, db: strings.TrimPrefix(u.Path, "/"), user: u.User.Username(), password: pw, direct: pgDirect{c}}
}

// TestServe_SIGTERMRollsBackTransactions runs the real binary with Data API
// transactions open on MariaDB and PostgreSQL, sends SIGTERM and checks the
// process exits 0 in time, reports the rollbacks, and that only committed
// rows exist afterwards.
func TestServe_SIGTERMRollsBackTransactions(t *testing.T) {
	dbs := []shutdownDB{mysqlShutdownDB(t), pgShutdownDB(t)}
	table := fmt.Sprintf("sigterm_%d", time.Now().UnixNano())
	for _, d := range dbs {
		if err := d.direct.exec("CREATE TABLE " + table + " (id INT PRIMARY KEY, note VARCHAR(20))"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = d.direct.exec("DROP TABLE " + table) })
	}
	bin := sqlgateBinary(t)
	dir := t.TempDir()
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "data_dir: %s\nlisten: {http: 127.0.0.1:0}\nclusters:\n", filepath.Join(dir, "data"))
	for _, d := range dbs {
		fmt.Fprintf(&cfg, "  - {name: %s, engine: %s, address: %q, database: %s, tls: {mode: disable}}\n", d.name, d.engine, d.addr, d.db)
	}
	cfgFile := filepath.Join(dir, "sqlgate.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	const akid, secret = "AKIDSQLGATESIGTERM001", "sqlgate-sigterm-secret-access-key-000000"
	cmd := exec.Command(bin, "serve", "--config", cfgFile)
	cmd.Env = append(os.Environ(), "SQLGATE_ROOT_ACCESS_KEY_ID="+akid, "SQLGATE_ROOT_SECRET_ACCESS_KEY="+secret)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	logs := &testdb.LogBuffer{}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`msg=listening proto=http addr=(\S+)`)
		for sc.Scan() {
			fmt.Fprintln(logs, sc.Text())
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-exited:
		t.Fatalf("sqlgate exited at start: %v\n%s", err, logs)
	case <-time.After(60 * time.Second):
		t.Fatalf("sqlgate did not start\n%s", logs)
	}
	creds := credentials.NewStaticCredentialsProvider(akid, secret, "")
	data := rdsdata.New(rdsdata.Options{BaseEndpoint: aws.String(base), Region: "us-east-1", Credentials: creds, RetryMaxAttempts: 1})
	sm := secretsmanager.New(secretsmanager.Options{BaseEndpoint: aws.String(base), Region: "us-east-1", Credentials: creds, RetryMaxAttempts: 1})
	ctx := context.Background()
	for _, d := range dbs {
		out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(d.name + "-login"),
			SecretString: aws.String(fmt.Sprintf(`{"username":%q,"password":%q}`, d.user, d.password))})
		if err != nil {
			t.Fatal(err)
		}
		cl := "arn:aws:rds:us-east-1:000000000000:cluster:" + d.name
		run := func(txID *string, sql string) {
			if _, err := data.ExecuteStatement(ctx, &rdsdata.ExecuteStatementInput{ResourceArn: &cl, SecretArn: out.ARN,
				Sql: aws.String(sql), TransactionId: txID}); err != nil {
				t.Fatalf("%s: %s: %v", d.name, sql, err)
			}
		}
		committed, err := data.BeginTransaction(ctx, &rdsdata.BeginTransactionInput{ResourceArn: &cl, SecretArn: out.ARN})
		if err != nil {
			t.Fatalf("%s: begin: %v", d.name, err)
		}
		run(committed.TransactionId, "INSERT INTO "+table+" VALUES (1, 'committed')")
		if _, err := data.CommitTransaction(ctx, &rdsdata.CommitTransactionInput{ResourceArn: &cl, SecretArn: out.ARN,
			TransactionId: committed.TransactionId}); err != nil {
			t.Fatalf("%s: commit: %v", d.name, err)
		}
		for i := 2; i <= 3; i++ {
			open, err := data.BeginTransaction(ctx, &rdsdata.BeginTransactionInput{ResourceArn: &cl, SecretArn: out.ARN})
			if err != nil {
				t.Fatalf("%s: begin: %v", d.name, err)
			}
			run(open.TransactionId, fmt.Sprintf("INSERT INTO %s VALUES (%d, 'open')", table, i))
			if i == 2 { // a second open transaction would wait for this row lock
				run(open.TransactionId, fmt.Sprintf("UPDATE %s SET note = 'changed' WHERE id = 1", table))
			}
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("sqlgate exit: %v\n%s", err, logs)
		}
	case <-time.After(35 * time.Second): // the 30 s grace period and a margin
		t.Fatalf("sqlgate did not exit within the grace period\n%s", logs)
	}
	if !strings.Contains(logs.String(), "rolled_back_transactions=4") {
		t.Errorf("shutdown did not report 4 rolled-back transactions:\n%s", logs)
	}
	for _, d := range dbs {
		got, err := d.direct.notes("SELECT id, note FROM " + table + " ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, ",") != "1:committed" {
			t.Errorf("%s: rows after SIGTERM = %v, want [1:committed]", d.name, got)
		}
	}
}
