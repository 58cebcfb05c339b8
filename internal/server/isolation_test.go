package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata/types"
)

// isoEnv is one engine behind an in-process sqlgate whose pool holds a
// single connection, so consecutive calls share it whenever it is pooled,
// and two principals: the root key (a) and an IAM user (b) allowed the
// Data API and the secret.
type isoEnv struct {
	*testEnv
	engine, arn, secret string
	a, b                *rdsdata.Client
}

func isoEngines(t *testing.T) []isoEnv {
	t.Helper()
	var out []isoEnv
	lite := configFor()
	lite.Clusters[0].MaxConnections = 1
	targets := []struct {
		cfg  dbTarget
		lite bool
	}{{dbTarget{cluster: lite.Clusters[0]}, true}, {mysqlTarget(t, "maria"), false}, {pgTarget(t, "pg"), false}}
	for _, tg := range targets {
		tg.cfg.cluster.MaxConnections = 1
		env := newTestEnv(t, configFor(tg.cfg))
		name, secret := tg.cfg.cluster.Name, "default"
		if !tg.lite {
			secret = env.createSecret(t, name+"-app", tg.cfg.user, tg.cfg.password)
		}
		arn := env.clusterARN(name)
		policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"rds-data:*","Resource":%q},`+
			`{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`, arn)
		env.iamOK(t, creds{}, "CreateUser", "UserName", "second")
		env.iamOK(t, creds{}, "PutUserPolicy", "UserName", "second", "PolicyName", "data", "PolicyDocument", policy)
		b, _ := env.clients(env.createKey(t, "second"))
		out = append(out, isoEnv{testEnv: env, engine: tg.cfg.cluster.Engine, arn: arn, secret: secret, a: env.data, b: b})
	}
	return out
}

func (e isoEnv) run(c *rdsdata.Client, sql string, params ...types.SqlParameter) (*rdsdata.ExecuteStatementOutput, error) {
	return c.ExecuteStatement(context.Background(), &rdsdata.ExecuteStatementInput{
		ResourceArn: aws.String(e.arn), SecretArn: aws.String(e.secret), Sql: aws.String(sql), Parameters: params})
}

func (e isoEnv) runTx(c *rdsdata.Client, tx, sql string) (*rdsdata.ExecuteStatementOutput, error) {
	return c.ExecuteStatement(context.Background(), &rdsdata.ExecuteStatementInput{
		ResourceArn: aws.String(e.arn), SecretArn: aws.String(e.secret), Sql: aws.String(sql), TransactionId: aws.String(tx)})
}

// value runs a one-value query and returns its value as text, or the
// error code.
func (e isoEnv) value(t *testing.T, c *rdsdata.Client, sql string, params ...types.SqlParameter) string {
	t.Helper()
	out, err := e.run(c, sql, params...)
	if err != nil {
		code, _ := apiCode(err)
		return "error:" + code
	}
	if len(out.Records) != 1 || len(out.Records[0]) != 1 {
		t.Fatalf("%s: %d records", sql, len(out.Records))
	}
	return fieldText(out.Records[0][0])
}

func fieldText(f types.Field) string {
	switch v := f.(type) {
	case *types.FieldMemberStringValue:
		return v.Value
	case *types.FieldMemberLongValue:
		return fmt.Sprint(v.Value)
	case *types.FieldMemberBooleanValue:
		return fmt.Sprint(v.Value)
	case *types.FieldMemberDoubleValue:
		return fmt.Sprint(v.Value)
	case *types.FieldMemberIsNull:
		return "NULL"
	}
	return fmt.Sprintf("%T", f)
}

// isoCase is one statement that changes session state and a probe whose
// answer must not change for the next caller.
type isoCase struct{ set, probe string }

var isoCases = map[string][]isoCase{
	"mysql": {
		{"SET @v = 'x'", "SELECT COALESCE(@v, 'unset')"},
		{"USE mysql", "SELECT DATABASE()"},
		{"SET NAMES gbk", "SELECT @@character_set_client"},
		{"SET character_set_client = gbk", "SELECT @@character_set_client"},
		{"SET SESSION max_statement_time = 0.001", "SELECT CAST(@@max_statement_time AS CHAR)"},
		{"SET SESSION max_statement_time = 0.001", "SELECT CAST(SLEEP(0.01) AS CHAR)"},
		{"SET time_zone = '+09:00'", "SELECT @@time_zone"},
		{"SET sql_mode = 'ANSI_QUOTES'", "SELECT @@sql_mode"},
		{"SET SESSION div_precision_increment = 12", "SELECT CAST(@@div_precision_increment AS CHAR)"},
		{"CREATE TEMPORARY TABLE iso_tmp (i int)", "SELECT COUNT(*) FROM iso_tmp"},
		{"SELECT 1 INTO @w", "SELECT COALESCE(@w, 'unset')"},
	},
	"postgres": {
		{"SET search_path TO pg_catalog", "SELECT current_setting('search_path')"},
		{"SET ROLE iso_role", "SELECT current_user::text"},
		{"DO $$BEGIN EXECUTE 'SET ROLE iso_role'; END$$", "SELECT current_user::text"},
		{"SET statement_timeout = 1", "SELECT current_setting('statement_timeout')"},
		{"SET statement_timeout = 1", "SELECT pg_sleep(0.01)::text"},
		{"SELECT 'a' AS s INTO TEMP iso_t", "SELECT s FROM iso_t"},
		{"SELECT set_config('TimeZone', 'Asia/Tokyo', false)", "SELECT current_setting('TimeZone')"},
		// The engine's own statement cache (_sqlgate_N) is not caller state.
		{"PREPARE iso_q AS SELECT 1", "SELECT count(*)::text FROM pg_prepared_statements WHERE name NOT LIKE '\\_sqlgate\\_%'"},
		{"SET application_name = 'leak'", "SELECT current_setting('application_name')"},
		{"SET client_encoding = 'LATIN1'", "SELECT current_setting('client_encoding')"},
		{"SELECT pg_advisory_lock(4242)", "SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"},
	},
	"sqlite": {
		{"PRAGMA foreign_keys = 0", "PRAGMA foreign_keys"},
		{"PRAGMA recursive_triggers = 1", "PRAGMA recursive_triggers"},
		{"CREATE TEMP TABLE iso_tmp (i)", "SELECT count(*) FROM iso_tmp"},
		{"CREATE TEMP VIEW iso_v AS SELECT 1 AS x", "SELECT count(*) FROM temp.sqlite_master"},
	},
}

// TestIsolation_SessionState: a statement that changes session state
// leaves nothing for the next call, by the same or another principal.
func TestIsolation_SessionState(t *testing.T) {
	for _, e := range isoEngines(t) {
		t.Run(e.engine, func(t *testing.T) {
			if e.engine == "postgres" {
				e.run(e.a, "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'iso_role') THEN CREATE ROLE iso_role; END IF; END$$")
				if _, err := e.run(e.a, "GRANT iso_role TO CURRENT_USER"); err != nil {
					t.Fatal(err)
				}
			}
			for _, tc := range isoCases[e.engine] {
				want := e.value(t, e.b, tc.probe)
				if _, err := e.run(e.a, tc.set); err != nil {
					t.Fatalf("%s: %v", tc.set, err)
				}
				for _, c := range []*rdsdata.Client{e.b, e.a} {
					if got := e.value(t, c, tc.probe); got != want {
						t.Errorf("after %q by another call: %s = %q, want %q", tc.set, tc.probe, got, want)
					}
				}
			}
			if st := e.srv.clusters[0].pool.Stats(); st.Busy != 0 {
				t.Errorf("pool after the cases: %+v", st)
			}
		})
	}
}

// TestIsolation_TransactionControl: transaction-control SQL is refused at
// the Data API door (BadRequestException naming BeginTransaction), so
// nothing is left open between calls; savepoints work inside a
// transaction.
func TestIsolation_TransactionControl(t *testing.T) {
	for _, e := range isoEngines(t) {
		t.Run(e.engine, func(t *testing.T) {
			tbl := uniqueTable("iso_tx")
			if _, err := e.run(e.a, "CREATE TABLE "+tbl+" (i int)"); err != nil {
				t.Fatal(err)
			}
			defer e.run(e.a, "DROP TABLE "+tbl)
			refused := []string{"BEGIN", "START TRANSACTION", "COMMIT", "ROLLBACK", "SAVEPOINT sp1", "ROLLBACK TO SAVEPOINT sp1", "RELEASE SAVEPOINT sp1"}
			switch e.engine {
			case "mysql":
				refused = append(refused, "SET autocommit = 0", "SET @@session.autocommit = OFF", "/*!40101 START TRANSACTION */", "XA START 'x'", "begin work", "SET SESSION TRANSACTION READ ONLY")
			case "postgres":
				refused = append(refused, "END", "ABORT", "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE", "start transaction read only")
			}
			for _, sql := range refused {
				_, err := e.run(e.a, sql)
				var bre *types.BadRequestException
				if !errors.As(err, &bre) || !strings.Contains(aws.ToString(bre.Message), "BeginTransaction") {
					t.Errorf("%q: %v, want BadRequestException naming BeginTransaction", sql, err)
				}
				if _, err := e.data.BatchExecuteStatement(context.Background(), &rdsdata.BatchExecuteStatementInput{
					ResourceArn: aws.String(e.arn), SecretArn: aws.String(e.secret), Sql: aws.String(sql),
					ParameterSets: [][]types.SqlParameter{{}}}); !errors.As(err, &bre) {
					t.Errorf("batch %q: %v, want BadRequestException", sql, err)
				}
			}
			// The seed of the problem: START TRANSACTION, then an INSERT
			// acknowledged but never visible. Now the INSERT commits.
			e.run(e.a, "START TRANSACTION")
			if out, err := e.run(e.a, "INSERT INTO "+tbl+" VALUES (1)"); err != nil || out.NumberOfRecordsUpdated != 1 {
				t.Fatalf("insert: %v %v", out, err)
			}
			if got := e.value(t, e.b, "SELECT COUNT(*) FROM "+tbl); got != "1" {
				t.Fatalf("another principal sees %s rows, want 1", got)
			}
			// Inside a transaction: savepoints work, ending it by SQL does not.
			begin, err := e.a.BeginTransaction(context.Background(), &rdsdata.BeginTransactionInput{
				ResourceArn: aws.String(e.arn), SecretArn: aws.String(e.secret)})
			if err != nil {
				t.Fatal(err)
			}
			tx := aws.ToString(begin.TransactionId)
			for _, sql := range []string{"SAVEPOINT sp1", "INSERT INTO " + tbl + " VALUES (2)", "ROLLBACK TO SAVEPOINT sp1", "RELEASE SAVEPOINT sp1"} {
				if _, err := e.runTx(e.a, tx, sql); err != nil {
					t.Fatalf("in transaction: %s: %v", sql, err)
				}
			}
			for _, sql := range []string{"COMMIT", "ROLLBACK", "BEGIN"} {
				var bre *types.BadRequestException
				if _, err := e.runTx(e.a, tx, sql); !errors.As(err, &bre) {
					t.Errorf("in transaction: %q: %v, want BadRequestException", sql, err)
				}
			}
			if _, err := e.a.CommitTransaction(context.Background(), &rdsdata.CommitTransactionInput{
				ResourceArn: aws.String(e.arn), SecretArn: aws.String(e.secret), TransactionId: aws.String(tx)}); err != nil {
				t.Fatal(err)
			}
			if got := e.value(t, e.b, "SELECT COUNT(*) FROM "+tbl); got != "1" {
				t.Fatalf("after the transaction: %s rows, want 1", got)
			}
		})
	}
}

// TestIsolation_Database: outside a transaction the database comes from
// the request (or the cluster default) on every call; inside one, a USE
// holds until the transaction ends.
func TestIsolation_Database(t *testing.T) {
	for _, e := range isoEngines(t) {
		if e.engine != "mysql" {
			continue
		}
		t.Run(e.engine, func(t *testing.T) {
			ctx := context.Background()
			def := e.value(t, e.a, "SELECT DATABASE()")
			dbx := uniqueTable("iso_db")
			withDB := func(db, sql string) error {
				_, err := e.a.ExecuteStatement(ctx, &rdsdata.ExecuteStatementInput{ResourceArn: aws.String(e.arn),
					SecretArn: aws.String(e.secret), Database: aws.String(db), Sql: aws.String(sql)})
				return err
			}
			if _, err := e.run(e.a, "CREATE DATABASE "+dbx); err != nil {
				t.Fatal(err)
			}
			defer e.run(e.a, "DROP DATABASE IF EXISTS "+dbx)
			// data-api-client's setup path: drop and create the database it
			// then names in --database.
			if err := withDB(dbx, "DROP DATABASE "+dbx); err != nil {
				t.Fatal(err)
			}
			if _, err := e.run(e.a, "CREATE DATABASE "+dbx); err != nil {
				t.Fatal(err)
			}
			if err := withDB(dbx, "CREATE TABLE t (i int)"); err != nil {
				t.Fatalf("CREATE TABLE in the re-created database: %v", err)
			}
			if got := e.value(t, e.b, "SELECT DATABASE()"); got != def {
				t.Errorf("default database after calls naming %s: %q, want %q", dbx, got, def)
			}
			begin, err := e.a.BeginTransaction(ctx, &rdsdata.BeginTransactionInput{ResourceArn: aws.String(e.arn),
				SecretArn: aws.String(e.secret), Database: aws.String(dbx)})
			if err != nil {
				t.Fatal(err)
			}
			tx := aws.ToString(begin.TransactionId)
			for _, step := range []struct{ sql, want string }{{"SELECT DATABASE()", dbx}, {"USE mysql", ""}, {"SELECT DATABASE()", "mysql"}} {
				out, err := e.runTx(e.a, tx, step.sql)
				if err != nil {
					t.Fatalf("%s: %v", step.sql, err)
				}
				if step.want != "" && fieldText(out.Records[0][0]) != step.want {
					t.Fatalf("in the transaction: %s = %s, want %s", step.sql, fieldText(out.Records[0][0]), step.want)
				}
			}
			if _, err := e.a.CommitTransaction(ctx, &rdsdata.CommitTransactionInput{ResourceArn: aws.String(e.arn),
				SecretArn: aws.String(e.secret), TransactionId: aws.String(tx)}); err != nil {
				t.Fatal(err)
			}
			if got := e.value(t, e.b, "SELECT DATABASE()"); got != def {
				t.Errorf("after the transaction's USE: %q, want %q", got, def)
			}
		})
	}
}

// TestIsolation_CharsetInjection: a caller's SET NAMES gbk cannot turn the
// next caller's bound string into SQL (the GBK lead byte 0x81 at the end
// of 丁 would swallow a backslash that escapes the quote).
func TestIsolation_CharsetInjection(t *testing.T) {
	for _, e := range isoEngines(t) {
		if e.engine != "mysql" {
			continue
		}
		payload := "丁' UNION SELECT 'injected' -- "
		for range 5 {
			if _, err := e.run(e.a, "SET NAMES gbk"); err != nil {
				t.Fatal(err)
			}
			p := types.SqlParameter{Name: aws.String("s"), Value: &types.FieldMemberStringValue{Value: payload}}
			out, err := e.run(e.b, "SELECT :s AS v", p)
			if err != nil {
				t.Fatalf("echo: %v", err)
			}
			if len(out.Records) != 1 || fieldText(out.Records[0][0]) != payload {
				t.Fatalf("echo of %q = %v", payload, out.Records)
			}
		}
	}
}

// generatedIDCases: a table with a generated key, and the probe of the
// id a session last generated.
var generatedIDCases = map[string]struct{ table, probe string }{
	"mysql":    {"CREATE TABLE %s (id INT AUTO_INCREMENT PRIMARY KEY, v INT)", "SELECT LAST_INSERT_ID()"},
	"postgres": {"CREATE TABLE %s (id serial PRIMARY KEY, v int)", "SELECT lastval()"},
}

// TestIsolation_GeneratedIDs: an insert's generated id is returned to its
// caller and is not what the next call reads as the session's last id;
// inside a transaction the caller still reads its own. (SQLite has no
// statement that resets last_insert_rowid(): docs/dataapi.md.)
func TestIsolation_GeneratedIDs(t *testing.T) {
	for _, e := range isoEngines(t) {
		gc, ok := generatedIDCases[e.engine]
		if !ok {
			continue
		}
		t.Run(e.engine, func(t *testing.T) {
			tbl := fmt.Sprintf("iso_gen_%d", len(e.engine)) + strings.ReplaceAll(t.Name(), "/", "_")
			if _, err := e.run(e.a, fmt.Sprintf(gc.table, tbl)); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _, _ = e.run(e.a, "DROP TABLE "+tbl) })
			want := e.value(t, e.b, gc.probe)
			for i := range 3 {
				out, err := e.run(e.a, "INSERT INTO "+tbl+" (v) VALUES (1)")
				if err != nil {
					t.Fatal(err)
				}
				if e.engine == "mysql" && len(out.GeneratedFields) != 1 {
					t.Fatalf("insert %d: generatedFields %v", i, out.GeneratedFields)
				}
				for _, c := range []*rdsdata.Client{e.b, e.a} {
					if got := e.value(t, c, gc.probe); got != want {
						t.Fatalf("after an insert by another call: %s = %q, want %q", gc.probe, got, want)
					}
				}
			}
			tx, err := e.a.BeginTransaction(context.Background(), &rdsdata.BeginTransactionInput{
				ResourceArn: aws.String(e.arn), SecretArn: aws.String(e.secret)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.runTx(e.a, *tx.TransactionId, "INSERT INTO "+tbl+" (v) VALUES (2)"); err != nil {
				t.Fatal(err)
			}
			out, err := e.runTx(e.a, *tx.TransactionId, gc.probe)
			if err != nil || len(out.Records) != 1 || fieldText(out.Records[0][0]) != "4" {
				t.Fatalf("own id in the transaction: %v %v, want 4", out, err)
			}
			if _, err := e.a.CommitTransaction(context.Background(), &rdsdata.CommitTransactionInput{
				ResourceArn: aws.String(e.arn), SecretArn: aws.String(e.secret), TransactionId: tx.TransactionId}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
