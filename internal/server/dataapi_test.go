package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata/types"
	"github.com/aws/smithy-go"
)

// engineEnv is one engine behind an in-process sqlgate, with a secret.
type engineEnv struct {
	*testEnv
	name, arn, secret string
}

// allEngines returns an environment per engine: SQLite always, MariaDB and
// PostgreSQL when configured (and required in CI).
func allEngines(t *testing.T) []engineEnv {
	t.Helper()
	var out []engineEnv
	lite := newTestEnv(t, configFor())
	out = append(out, engineEnv{lite, "sqlite", lite.clusterARN("default"), "default"})
	for _, tg := range []dbTarget{mysqlTarget(t, "maria"), pgTarget(t, "pg")} {
		env := newTestEnv(t, configFor(tg))
		sec := env.createSecret(t, tg.cluster.Name+"-app", tg.user, tg.password)
		out = append(out, engineEnv{env, tg.cluster.Engine, env.clusterARN(tg.cluster.Name), sec})
	}
	return out
}

func (e engineEnv) exec(t *testing.T, sql string, params ...types.SqlParameter) (*rdsdata.ExecuteStatementOutput, error) {
	t.Helper()
	return e.data.ExecuteStatement(context.Background(), &rdsdata.ExecuteStatementInput{
		ResourceArn: aws.String(e.arn), SecretArn: aws.String(e.secret), Sql: aws.String(sql), Parameters: params})
}

func (e engineEnv) mustExec(t *testing.T, sql string, params ...types.SqlParameter) *rdsdata.ExecuteStatementOutput {
	t.Helper()
	out, err := e.exec(t, sql, params...)
	if err != nil {
		t.Fatalf("%s: %s: %v", e.name, sql, err)
	}
	return out
}

func uniqueTable(prefix string) string {
	return fmt.Sprintf("%s_%d", prefix, time.Now().UnixNano()%1e12)
}

// TestDataAPI_Seed000 runs the seed's Pets example through the Go SDK.
func TestDataAPI_Seed000(t *testing.T) {
	for _, e := range allEngines(t) {
		t.Run(e.name, func(t *testing.T) {
			tbl := uniqueTable("pets")
			defer e.exec(t, "DROP TABLE "+tbl)
			e.mustExec(t, "CREATE TABLE "+tbl+"(id varchar(200), type varchar(200), price float)")
			ins := e.mustExec(t, "INSERT INTO "+tbl+" VALUES ('111','dog',123)")
			if ins.NumberOfRecordsUpdated != 1 || ins.GeneratedFields == nil || len(ins.GeneratedFields) != 0 {
				t.Fatalf("insert = %+v", ins)
			}
			sel := e.mustExec(t, "SELECT * FROM "+tbl)
			if len(sel.Records) != 1 || len(sel.Records[0]) != 3 {
				t.Fatalf("records = %+v", sel.Records)
			}
			row := sel.Records[0]
			if v, ok := row[0].(*types.FieldMemberStringValue); !ok || v.Value != "111" {
				t.Fatalf("id = %#v", row[0])
			}
			if v, ok := row[2].(*types.FieldMemberDoubleValue); !ok || v.Value != 123 {
				t.Fatalf("price = %#v", row[2])
			}
		})
	}
}

// TestDataAPI_Errors checks the exception class each SDK call surfaces.
func TestDataAPI_Errors(t *testing.T) {
	for _, e := range allEngines(t) {
		t.Run(e.name, func(t *testing.T) {
			_, err := e.exec(t, "SELEC nonsense")
			var dbe *types.DatabaseErrorException
			if !errors.As(err, &dbe) {
				t.Fatalf("syntax error: %v, want DatabaseErrorException", err)
			}
			_, err = e.exec(t, "SELECT 1; SELECT 2")
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" {
				t.Fatalf("multi statement: %v", err)
			}
			_, err = e.data.ExecuteStatement(context.Background(), &rdsdata.ExecuteStatementInput{
				ResourceArn: aws.String(e.arn), SecretArn: aws.String("no-such-secret"), Sql: aws.String("SELECT 1")})
			var se *types.SecretsErrorException
			if !errors.As(err, &se) {
				t.Fatalf("unknown secret: %v", err)
			}
			_, err = e.data.ExecuteStatement(context.Background(), &rdsdata.ExecuteStatementInput{
				ResourceArn: aws.String(strings.Replace(e.arn, "cluster:", "cluster:nope", 1)), SecretArn: aws.String(e.secret), Sql: aws.String("SELECT 1")})
			// ExecuteStatement's model does not list NotFoundException, so
			// the Go SDK surfaces it as a generic API error with that code.
			if !errors.As(err, &ae) || ae.ErrorCode() != "NotFoundException" {
				t.Fatalf("unknown cluster: %v", err)
			}
			_, err = e.data.CommitTransaction(context.Background(), &rdsdata.CommitTransactionInput{
				ResourceArn: aws.String(e.arn), SecretArn: aws.String(e.secret), TransactionId: aws.String("nope")})
			var tnf *types.TransactionNotFoundException
			if !errors.As(err, &tnf) {
				t.Fatalf("unknown transaction: %v", err)
			}
		})
	}
}

// TestDataAPI_Transaction commits, rolls back and refuses concurrent use.
func TestDataAPI_Transaction(t *testing.T) {
	ctx := context.Background()
	for _, e := range allEngines(t) {
		t.Run(e.name, func(t *testing.T) {
			tbl := uniqueTable("tx")
			defer e.exec(t, "DROP TABLE "+tbl)
			e.mustExec(t, "CREATE TABLE "+tbl+"(id int, name varchar(20))")
			for _, commit := range []bool{true, false} {
				b, err := e.data.BeginTransaction(ctx, &rdsdata.BeginTransactionInput{ResourceArn: &e.arn, SecretArn: &e.secret})
				if err != nil {
					t.Fatal(err)
				}
				_, err = e.data.ExecuteStatement(ctx, &rdsdata.ExecuteStatementInput{ResourceArn: &e.arn, SecretArn: &e.secret,
					TransactionId: b.TransactionId, Sql: aws.String("INSERT INTO " + tbl + " VALUES (:id, :name)"),
					Parameters: []types.SqlParameter{
						{Name: aws.String("id"), Value: &types.FieldMemberLongValue{Value: 1}},
						{Name: aws.String("name"), Value: &types.FieldMemberStringValue{Value: fmt.Sprint(commit)}}}})
				if err != nil {
					t.Fatal(err)
				}
				if commit {
					out, err := e.data.CommitTransaction(ctx, &rdsdata.CommitTransactionInput{ResourceArn: &e.arn, SecretArn: &e.secret, TransactionId: b.TransactionId})
					if err != nil || *out.TransactionStatus != "Transaction Committed" {
						t.Fatalf("commit: %v %v", out, err)
					}
				} else {
					out, err := e.data.RollbackTransaction(ctx, &rdsdata.RollbackTransactionInput{ResourceArn: &e.arn, SecretArn: &e.secret, TransactionId: b.TransactionId})
					if err != nil || *out.TransactionStatus != "Rollback Complete" {
						t.Fatalf("rollback: %v %v", out, err)
					}
				}
			}
			sel := e.mustExec(t, "SELECT name FROM "+tbl)
			if len(sel.Records) != 1 || sel.Records[0][0].(*types.FieldMemberStringValue).Value != "true" {
				t.Fatalf("rows = %+v", sel.Records)
			}
		})
	}
}

// TestDataAPI_ConcurrentTransactions runs 100 transactions at once (on a
// small budget) and checks nothing leaks.
func TestDataAPI_ConcurrentTransactions(t *testing.T) {
	ctx := context.Background()
	for _, e := range allEngines(t) {
		t.Run(e.name, func(t *testing.T) {
			tbl := uniqueTable("ctx")
			defer e.exec(t, "DROP TABLE "+tbl)
			e.mustExec(t, "CREATE TABLE "+tbl+"(id int)")
			var wg sync.WaitGroup
			errs := make(chan error, 100)
			for i := 0; i < 100; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					b, err := e.data.BeginTransaction(ctx, &rdsdata.BeginTransactionInput{ResourceArn: &e.arn, SecretArn: &e.secret})
					if err != nil {
						errs <- err
						return
					}
					_, err = e.data.ExecuteStatement(ctx, &rdsdata.ExecuteStatementInput{ResourceArn: &e.arn, SecretArn: &e.secret,
						TransactionId: b.TransactionId, Sql: aws.String(fmt.Sprintf("INSERT INTO %s VALUES (%d)", tbl, i))})
					if err != nil {
						errs <- err
					}
					if _, err := e.data.CommitTransaction(ctx, &rdsdata.CommitTransactionInput{ResourceArn: &e.arn, SecretArn: &e.secret, TransactionId: b.TransactionId}); err != nil {
						errs <- err
					}
				}(i)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			out := e.mustExec(t, "SELECT COUNT(*) FROM "+tbl)
			if n := out.Records[0][0].(*types.FieldMemberLongValue).Value; n != 100 {
				t.Fatalf("count = %d, want 100", n)
			}
			if n := e.srv.txns.Count(); n != 0 {
				t.Fatalf("open transactions = %d", n)
			}
		})
	}
}

// TestDataAPI_FormatJSON checks formatRecordsAs=JSON.
func TestDataAPI_FormatJSON(t *testing.T) {
	for _, e := range allEngines(t) {
		t.Run(e.name, func(t *testing.T) {
			out, err := e.data.ExecuteStatement(context.Background(), &rdsdata.ExecuteStatementInput{
				ResourceArn: &e.arn, SecretArn: &e.secret, FormatRecordsAs: types.RecordsFormatTypeJson,
				Sql: aws.String("SELECT 1 AS a, 'x' AS b")})
			if err != nil {
				t.Fatal(err)
			}
			var rows []map[string]any
			if err := json.Unmarshal([]byte(aws.ToString(out.FormattedRecords)), &rows); err != nil || len(rows) != 1 || rows[0]["b"] != "x" || out.Records != nil {
				t.Fatalf("formatted = %v %v", aws.ToString(out.FormattedRecords), err)
			}
		})
	}
}
