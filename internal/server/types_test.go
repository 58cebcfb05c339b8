package server

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata"
	"github.com/aws/aws-sdk-go-v2/service/rdsdata/types"
)

// typeCase is one column type: DDL type, literal inserted, and the Field
// the Go SDK must decode.
type typeCase struct {
	ddl, literal string
	want         types.Field
}

var mysqlTypes = []typeCase{
	{"TINYINT(1)", "1", &types.FieldMemberBooleanValue{Value: true}},
	{"BOOL", "0", &types.FieldMemberBooleanValue{Value: false}},
	{"BIT(3)", "b'101'", &types.FieldMemberBooleanValue{Value: true}},
	{"TINYINT", "-5", &types.FieldMemberLongValue{Value: -5}},
	{"SMALLINT UNSIGNED", "65535", &types.FieldMemberLongValue{Value: 65535}},
	{"MEDIUMINT", "-8388608", &types.FieldMemberLongValue{Value: -8388608}},
	{"INT", "2147483647", &types.FieldMemberLongValue{Value: 2147483647}},
	{"BIGINT", "-9223372036854775808", &types.FieldMemberLongValue{Value: -9223372036854775808}},
	{"BIGINT UNSIGNED", "9223372036854775807", &types.FieldMemberLongValue{Value: 9223372036854775807}},
	{"FLOAT", "123", &types.FieldMemberDoubleValue{Value: 123}},
	{"DOUBLE", "0.1", &types.FieldMemberDoubleValue{Value: 0.1}},
	{"DECIMAL(10,4)", "123456.789", &types.FieldMemberStringValue{Value: "123456.7890"}},
	{"CHAR(3)", "'abc'", &types.FieldMemberStringValue{Value: "abc"}},
	{"VARCHAR(20)", "'héllo'", &types.FieldMemberStringValue{Value: "héllo"}},
	{"TEXT", "'long text'", &types.FieldMemberStringValue{Value: "long text"}},
	{"ENUM('a','b')", "'b'", &types.FieldMemberStringValue{Value: "b"}},
	{"SET('x','y')", "'x,y'", &types.FieldMemberStringValue{Value: "x,y"}},
	{"JSON", `'{"k": 1}'`, &types.FieldMemberStringValue{Value: `{"k": 1}`}},
	{"VARBINARY(8)", "X'DEADBEEF'", &types.FieldMemberBlobValue{Value: []byte{0xde, 0xad, 0xbe, 0xef}}},
	{"BLOB", "'hello'", &types.FieldMemberBlobValue{Value: []byte("hello")}},
	{"DATE", "'2024-01-31'", &types.FieldMemberStringValue{Value: "2024-01-31"}},
	{"TIME(6)", "'12:34:56.789012'", &types.FieldMemberStringValue{Value: "12:34:56.789012"}},
	{"DATETIME", "'2019-11-12 22:00:11'", &types.FieldMemberStringValue{Value: "2019-11-12 22:00:11"}},
	{"DATETIME(6)", "'9999-12-31 23:59:59.999999'", &types.FieldMemberStringValue{Value: "9999-12-31 23:59:59.999999"}},
	{"TIMESTAMP", "'2020-02-29 01:02:03'", &types.FieldMemberStringValue{Value: "2020-02-29 01:02:03"}},
	{"YEAR", "2021", &types.FieldMemberStringValue{Value: "2021"}},
	{"INT", "NULL", &types.FieldMemberIsNull{Value: true}},
}

var pgTypes = []typeCase{
	{"bool", "true", &types.FieldMemberBooleanValue{Value: true}},
	{"int2", "-32768", &types.FieldMemberLongValue{Value: -32768}},
	{"int4", "2147483647", &types.FieldMemberLongValue{Value: 2147483647}},
	{"int8", "9223372036854775807", &types.FieldMemberLongValue{Value: 9223372036854775807}},
	{"float4", "0.5", &types.FieldMemberDoubleValue{Value: 0.5}},
	{"float8", "123", &types.FieldMemberDoubleValue{Value: 123}},
	{"numeric(5,2)", "0.1", &types.FieldMemberStringValue{Value: "0.10"}},
	{"text", "'héllo'", &types.FieldMemberStringValue{Value: "héllo"}},
	{"varchar(10)", "'v'", &types.FieldMemberStringValue{Value: "v"}},
	{"char(3)", "'a'", &types.FieldMemberStringValue{Value: "a  "}},
	{"uuid", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", &types.FieldMemberStringValue{Value: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}},
	{"jsonb", `'{"k": 1}'`, &types.FieldMemberStringValue{Value: `{"k": 1}`}},
	{"bytea", "'hello'::bytea", &types.FieldMemberBlobValue{Value: []byte("hello")}},
	{"date", "'2024-01-31'", &types.FieldMemberStringValue{Value: "2024-01-31"}},
	{"time", "'12:34:56.789'", &types.FieldMemberStringValue{Value: "12:34:56.789"}},
	{"timestamp", "'2022-01-01 00:00:00.123456'", &types.FieldMemberStringValue{Value: "2022-01-01 00:00:00.123456"}},
	{"timestamptz", "'2021-03-10 22:41:04.068123+02'", &types.FieldMemberStringValue{Value: "2021-03-10 20:41:04.068123"}},
	{"inet", "'10.0.0.1'", &types.FieldMemberStringValue{Value: "10.0.0.1"}},
	{"int4[]", "'{1,NULL,3}'", &types.FieldMemberArrayValue{Value: &types.ArrayValueMemberLongValues{Value: []*int64{aws.Int64(1), nil, aws.Int64(3)}}}},
	{"text[]", "'{a,b}'", &types.FieldMemberArrayValue{Value: &types.ArrayValueMemberStringValues{Value: []*string{aws.String("a"), aws.String("b")}}}},
	{"int4", "NULL", &types.FieldMemberIsNull{Value: true}},
}

// TestDataAPI_Types inserts one value per column type and reads it back
// through the Go SDK, on MariaDB and PostgreSQL.
func TestDataAPI_Types(t *testing.T) {
	targets := []struct {
		tg    dbTarget
		cases []typeCase
	}{{mysqlTarget(t, "maria"), mysqlTypes}, {pgTarget(t, "pg"), pgTypes}}
	for _, target := range targets {
		env := newTestEnv(t, configFor(target.tg))
		secret := env.createSecret(t, "app", target.tg.user, target.tg.password)
		e := engineEnv{env, target.tg.cluster.Engine, env.clusterARN(target.tg.cluster.Name), secret}
		t.Run(e.name, func(t *testing.T) {
			for _, tc := range target.cases {
				t.Run(tc.ddl+"="+tc.literal, func(t *testing.T) {
					tbl := uniqueTable("ty")
					e.mustExec(t, "CREATE TABLE "+tbl+" (v "+tc.ddl+")")
					defer e.exec(t, "DROP TABLE "+tbl)
					e.mustExec(t, "INSERT INTO "+tbl+" VALUES ("+tc.literal+")")
					out, err := e.data.ExecuteStatement(context.Background(), &rdsdata.ExecuteStatementInput{
						ResourceArn: &e.arn, SecretArn: &e.secret, Sql: aws.String("SELECT v FROM " + tbl), IncludeResultMetadata: true})
					if err != nil {
						t.Fatal(err)
					}
					if len(out.Records) != 1 || len(out.ColumnMetadata) != 1 {
						t.Fatalf("records %d, metadata %d", len(out.Records), len(out.ColumnMetadata))
					}
					got, want := fieldJSON(t, out.Records[0][0]), fieldJSON(t, tc.want)
					if got != want {
						t.Fatalf("got %s, want %s (typeName %s)", got, want, aws.ToString(out.ColumnMetadata[0].TypeName))
					}
				})
			}
		})
	}
}

// fieldJSON renders an SDK Field for comparison.
func fieldJSON(t *testing.T, f types.Field) string {
	t.Helper()
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDataAPI_Seed001 reproduces seed 001's users table on MariaDB.
func TestDataAPI_Seed001(t *testing.T) {
	tg := mysqlTarget(t, "maria")
	env := newTestEnv(t, configFor(tg))
	secret := env.createSecret(t, "app", tg.user, tg.password)
	e := engineEnv{env, "mysql", env.clusterARN("maria"), secret}
	tbl := uniqueTable("users")
	e.mustExec(t, "CREATE TABLE "+tbl+" (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50))")
	defer e.exec(t, "DROP TABLE "+tbl)
	for i, name := range []string{"Alice", "Bob", "Charlie"} {
		out := e.mustExec(t, "INSERT INTO "+tbl+" (name) VALUES (:name)",
			types.SqlParameter{Name: aws.String("name"), Value: &types.FieldMemberStringValue{Value: name}})
		if len(out.GeneratedFields) != 1 || out.GeneratedFields[0].(*types.FieldMemberLongValue).Value != int64(i+1) {
			t.Fatalf("generatedFields = %#v", out.GeneratedFields)
		}
	}
	out := e.mustExec(t, "SELECT * FROM "+tbl)
	var got [][]any
	for _, row := range out.Records {
		got = append(got, []any{row[0].(*types.FieldMemberLongValue).Value, row[1].(*types.FieldMemberStringValue).Value})
	}
	b, _ := json.Marshal(got)
	if string(b) != `[[1,"Alice"],[2,"Bob"],[3,"Charlie"]]` {
		t.Fatalf("rows = %s", b)
	}
}
