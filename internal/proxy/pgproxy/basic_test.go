package pgproxy

import (
	"context"
	"testing"
)

func TestServer_Basic(t *testing.T) {
	tp := startProxy(t, 2)
	c := tp.connect(t, "")
	if got := queryString(t, c, "select 'hello'"); got != "hello" {
		t.Fatalf("got %q", got)
	}
	if got := queryString(t, c, "select $1::text", "x"); got != "x" {
		t.Fatalf("got %q", got)
	}
	exec(t, c, "begin")
	exec(t, c, "create table if not exists proxy_basic(a int)")
	exec(t, c, "rollback")
	var n int
	if err := c.QueryRow(context.Background(), "select count(*) from generate_series(1,1000)").Scan(&n); err != nil || n != 1000 {
		t.Fatal(n, err)
	}
}
