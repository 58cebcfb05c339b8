package postgres

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// TestConn_Exec_types covers every PostgreSQL type of spec §4.6.
func TestConn_Exec_types(t *testing.T) {
	c := connect(t)
	exec(t, c, `DROP TYPE IF EXISTS sqlgate_pgeng_mood CASCADE`)
	exec(t, c, `CREATE TYPE sqlgate_pgeng_mood AS ENUM ('happy', 'sad')`)
	exec(t, c, `DROP DOMAIN IF EXISTS sqlgate_pgeng_posint`)
	exec(t, c, `CREATE DOMAIN sqlgate_pgeng_posint AS int4 CHECK (VALUE > 0)`)
	t.Cleanup(func() {
		c.Exec(context.Background(), `DROP TYPE IF EXISTS sqlgate_pgeng_mood CASCADE`, nil, 0)
		c.Exec(context.Background(), `DROP DOMAIN IF EXISTS sqlgate_pgeng_posint`, nil, 0)
	})

	S, L, D := engine.String, engine.Long, engine.Double
	tests := []struct {
		name     string
		expr     string
		want     engine.Value
		typeName string
		jdbc     int32
		prec     int32
		scale    int32
		decimal  bool
	}{
		{"int2", `1::int2`, L(1), "int2", 5, 5, 0, false},
		{"int4", `-2::int4`, L(-2), "int4", 4, 10, 0, false},
		{"int8", `9223372036854775807::int8`, L(math.MaxInt64), "int8", -5, 19, 0, false},
		{"oid", `26::oid`, S("26"), "oid", -5, 10, 0, false},
		{"float4", `0.1::float4`, D(0.1), "float4", 7, 8, 8, false},
		{"float8", `123::float8`, D(123), "float8", 8, 17, 17, false},
		{"float8 fraction", `0.1::float8`, D(0.1), "float8", 8, 17, 17, false},
		{"float8 NaN", `'NaN'::float8`, D(math.NaN()), "float8", 8, 17, 17, false},
		{"float8 Infinity", `'Infinity'::float8`, D(math.Inf(1)), "float8", 8, 17, 17, false},
		{"float8 -Infinity", `'-Infinity'::float8`, D(math.Inf(-1)), "float8", 8, 17, 17, false},
		{"numeric", `12.340::numeric(10,3)`, S("12.340"), "numeric", 2, 10, 3, true},
		{"numeric unbounded", `1.5::numeric`, S("1.5"), "numeric", 2, 0, 0, true},
		{"bool", `true`, engine.Bool(true), "bool", -7, 1, 0, false},
		{"bytea", `'hello'::bytea`, engine.Blob([]byte("hello")), "bytea", -2, unknownLength, 0, false},
		{"bytea empty", `''::bytea`, engine.Blob([]byte{}), "bytea", -2, unknownLength, 0, false},
		{"text", `'abc'::text`, S("abc"), "text", 12, unknownLength, 0, false},
		{"text empty", `''::text`, S(""), "text", 12, unknownLength, 0, false},
		{"varchar", `'abc'::varchar(10)`, S("abc"), "varchar", 12, 10, 0, false},
		{"bpchar keeps padding", `'ab'::char(4)`, S("ab  "), "bpchar", 1, 4, 0, false},
		{"name", `'abc'::name`, S("abc"), "name", 12, unknownLength, 0, false},
		{"uuid", `'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid`, S("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), "uuid", 1111, unknownLength, 0, false},
		{"json", `'{"a": 1}'::json`, S(`{"a": 1}`), "json", 1111, unknownLength, 0, false},
		{"jsonb", `'{"a":1}'::jsonb`, S(`{"a": 1}`), "jsonb", 1111, unknownLength, 0, false},
		{"inet", `'10.0.0.1'::inet`, S("10.0.0.1"), "inet", 1111, unknownLength, 0, false},
		{"cidr", `'10.0.0.0/8'::cidr`, S("10.0.0.0/8"), "cidr", 1111, unknownLength, 0, false},
		{"enum", `'happy'::sqlgate_pgeng_mood`, S("happy"), "sqlgate_pgeng_mood", 1111, unknownLength, 0, false},
		{"domain", `5::sqlgate_pgeng_posint`, L(5), "int4", 4, 10, 0, false},
		{"date", `'2021-03-10'::date`, S("2021-03-10"), "date", 91, 13, 0, false},
		{"time", `'22:41:04'::time`, S("22:41:04"), "time", 92, 15, 6, false},
		{"time ms", `'22:41:04.1'::time`, S("22:41:04.100"), "time", 92, 15, 6, false},
		{"time us", `'22:41:04.1234'::time`, S("22:41:04.123400"), "time", 92, 15, 6, false},
		{"time(0)", `'22:41:04.6'::time(0)`, S("22:41:05"), "time", 92, 8, 0, false},
		{"timestamp", `'2021-03-10 22:41:04'::timestamp`, S("2021-03-10 22:41:04"), "timestamp", 93, 29, 6, false},
		{"timestamp(3)", `'2022-01-01 00:00:00.123'::timestamp(3)`, S("2022-01-01 00:00:00.123"), "timestamp", 93, 26, 3, false},
		{"timestamp ms padded", `'2022-01-01 00:00:00.12'::timestamp`, S("2022-01-01 00:00:00.120"), "timestamp", 93, 29, 6, false},
		{"timestamp(6)", `'2022-01-01 00:00:00.123456'::timestamp(6)`, S("2022-01-01 00:00:00.123456"), "timestamp", 93, 29, 6, false},
		{"timestamptz to UTC", `'2021-03-10 22:41:04.068123+02'::timestamptz`, S("2021-03-10 20:41:04.068123"), "timestamptz", 93, 35, 6, false},
		{"timestamptz whole", `'2021-03-10 00:30:00-01:30'::timestamptz`, S("2021-03-10 02:00:00"), "timestamptz", 93, 35, 6, false},
		{"void", `pg_sleep(0)`, S(""), "void", 1111, unknownLength, 0, false},
		{"null int", `NULL::int4`, engine.Null(), "int4", 4, 10, 0, false},
		{"int4[]", `'{1,NULL,3}'::int4[]`, arr(engine.KindLong, L(1), engine.Null(), L(3)), "_int4", 2003, 10, 0, false},
		{"int4[] empty", `'{}'::int4[]`, arr(engine.KindLong), "_int4", 2003, 10, 0, false},
		{"int4[] bounds", `'[0:1]={7,8}'::int4[]`, arr(engine.KindLong, L(7), L(8)), "_int4", 2003, 10, 0, false},
		{"int2[]", `'{1,2}'::int2[]`, arr(engine.KindLong, L(1), L(2)), "_int2", 2003, 5, 0, false},
		{"int8[]", `'{1,2}'::int8[]`, arr(engine.KindLong, L(1), L(2)), "_int8", 2003, 19, 0, false},
		{"float4[]", `'{0.5,NaN}'::float4[]`, arr(engine.KindDouble, D(0.5), D(math.NaN())), "_float4", 2003, 8, 8, false},
		{"float8[]", `'{1.5,2}'::float8[]`, arr(engine.KindDouble, D(1.5), D(2)), "_float8", 2003, 17, 17, false},
		{"numeric[]", `'{1.50,NULL}'::numeric[]`, arr(engine.KindString, S("1.50"), engine.Null()), "_numeric", 2003, 0, 0, false},
		{"bool[]", `'{t,f,NULL}'::bool[]`, arr(engine.KindBool, engine.Bool(true), engine.Bool(false), engine.Null()), "_bool", 2003, 1, 0, false},
		{"text[]", `ARRAY['a', 'b c', NULL, 'NULL', '"q"', 'x\y', '{}', '']::text[]`,
			arr(engine.KindString, S("a"), S("b c"), engine.Null(), S("NULL"), S(`"q"`), S(`x\y`), S("{}"), S("")), "_text", 2003, unknownLength, 0, false},
		{"varchar[]", `ARRAY['a']::varchar[]`, arr(engine.KindString, S("a")), "_varchar", 2003, unknownLength, 0, false},
		{"date[]", `ARRAY['2021-01-02'::date]`, arr(engine.KindString, S("2021-01-02")), "_date", 2003, 13, 0, false},
		{"time[]", `ARRAY['12:00:00.5'::time]`, arr(engine.KindString, S("12:00:00.500")), "_time", 2003, 15, 6, false},
		{"timestamp[]", `ARRAY['2021-01-02 03:04:05'::timestamp, '2021-01-02 03:04:05.123456']`,
			arr(engine.KindString, S("2021-01-02 03:04:05"), S("2021-01-02 03:04:05.123456")), "_timestamp", 2003, 29, 6, false},
		{"timestamptz[]", `ARRAY['2021-01-02 03:04:05+01'::timestamptz]`, arr(engine.KindString, S("2021-01-02 02:04:05")), "_timestamptz", 2003, 35, 6, false},
		{"uuid[]", `ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid]`, arr(engine.KindString, S("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")), "_uuid", 2003, unknownLength, 0, false},
		{"json[]", `ARRAY['{"a":[1,2]}'::json]`, arr(engine.KindString, S(`{"a":[1,2]}`)), "_json", 2003, unknownLength, 0, false},
		{"enum[]", `ARRAY['sad'::sqlgate_pgeng_mood]`, arr(engine.KindString, S("sad")), "_sqlgate_pgeng_mood", 2003, unknownLength, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := exec(t, c, "SELECT "+tt.expr+" AS v")
			if !res.HasResultSet || len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
				t.Fatalf("result = %+v, want one row of one column", res)
			}
			if got := res.Rows[0][0]; !sameValue(got, tt.want) {
				t.Errorf("value = %#v, want %#v", got, tt.want)
			}
			col := res.Columns[0]
			if col.Name != "v" || col.Label != "v" || col.TypeName != tt.typeName || col.Type != tt.jdbc ||
				col.Precision != tt.prec || col.Scale != tt.scale || col.Nullable != 2 {
				t.Errorf("column = %+v, want name/label v, typeName %q, type %d, precision %d, scale %d, nullable 2",
					col, tt.typeName, tt.jdbc, tt.prec, tt.scale)
			}
			if res.Decimal[0] != tt.decimal {
				t.Errorf("Decimal = %v, want %v", res.Decimal[0], tt.decimal)
			}
			if res.RowsAffected != 0 || res.Generated != nil {
				t.Errorf("RowsAffected %d, Generated %v; want 0, nil", res.RowsAffected, res.Generated)
			}
		})
	}
}

func TestConn_Exec_unsupportedTypes(t *testing.T) {
	c := connect(t)
	tests := []struct{ expr, want string }{
		{`'1 day'::interval`, "INTERVAL"},
		{`'12:00+02'::timetz`, "TIMETZ"},
		{`'12.5'::money`, "MONEY"},
		{`'(1,2)'::point`, "POINT"},
		{`'{1,2,3}'::line`, "LINE"},
		{`'[(0,0),(1,1)]'::lseg`, "LSEG"},
		{`'((0,0),(1,1))'::box`, "BOX"},
		{`'[(0,0),(1,1)]'::path`, "PATH"},
		{`'((0,0),(1,1),(1,0))'::polygon`, "POLYGON"},
		{`'<(0,0),1>'::circle`, "CIRCLE"},
		{`'a'::"char"`, `"CHAR"`},
		{`'pg_class'::regclass`, "regclass"},
		{`'08:00:2b:01:02:03'::macaddr`, "MACADDR"},
		{`'[1,5)'::int4range`, "INT4RANGE"},
		{`'[2021-01-01,2021-02-01)'::daterange`, "DATERANGE"},
		{`'{{1,2},{3,4}}'::int4[]`, "_INT4"},
		{`ARRAY['1 day'::interval]`, "_INTERVAL"},
		{`'<a/>'::xml`, "XML"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := c.Exec(context.Background(), "SELECT "+tt.expr, nil, 0)
			var ue *engine.UnsupportedTypeError
			if !errors.As(err, &ue) || ue.TypeName != tt.want {
				t.Fatalf("err = %v, want UnsupportedTypeError %s", err, tt.want)
			}
			if c.Broken() {
				t.Fatal("conn broken after unsupported type")
			}
		})
	}
	// The connection is still in sync.
	if got := exec(t, c, "SELECT 1").Rows[0][0]; got.Long != 1 {
		t.Fatalf("after errors: %v", got)
	}
}
