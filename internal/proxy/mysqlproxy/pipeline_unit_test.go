package mysqlproxy

import "testing"

func TestScan_pipeable(t *testing.T) {
	tests := []struct {
		sql  string
		want bool
	}{
		{"SELECT c FROM sbtest1 WHERE id=7", true},
		{"  select 1", true},
		{"/* c */ select 1", true},
		{"(SELECT 1) UNION (SELECT 2)", true},
		{"insert into t values (1)", true},
		{"UPDATE t SET a = 1", true},
		{"delete from t", true},
		{"replace into t values (1)", true},
		{"with x as (select 1) select * from x", true},
		{"select count(*), now(), concat('a', 'b') from t", true},
		{"select 'sleep(1)', `next` from t", true},
		{"select 1; select 2", false},
		{"begin", false},
		{"start transaction", false},
		{"commit", false},
		{"set autocommit = 0", false},
		{"use db", false},
		{"call p()", false},
		{"select my_func(1)", false},
		{"select db.f(1)", false},
		{"select sleep(10)", false},
		{"select benchmark(1000, md5('a'))", false},
		{"select get_lock('a', 0)", false},
		{"select release_lock('a')", false},
		{"select last_insert_id()", false},
		{"select found_rows()", false},
		{"select nextval(s)", false},
		{"select next value for s", false},
		{"select previous value for s", false},
		{"select @a", false},
		{"select 1 into @a", false},
		{"create temporary table t (i int)", false},
		{"lock tables t read", false},
		{"prepare s from 'select 1'", false},
		{"load data local infile 'x' into table t", false},
		{"show tables", false},
		{"selectx 1", false},
		{"", false},
	}
	for _, tc := range tests {
		t.Run(tc.sql, func(t *testing.T) {
			if got := scanSQL([]byte(tc.sql)).pipeable(); got != tc.want {
				t.Fatalf("pipeable = %v, want %v", got, tc.want)
			}
		})
	}
}
