package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sqlgate/sqlgate/internal/engine"
)

func TestEngine_Connect(t *testing.T) {
	e, creds := testServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	t.Run("refused", func(t *testing.T) {
		e := New(Config{Address: "127.0.0.1:1", ConnectTimeout: 2 * time.Second})
		_, err := e.Connect(ctx, creds)
		if !errors.Is(err, engine.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
	})
	t.Run("bad password", func(t *testing.T) {
		bad := creds
		bad.Password = "wrong-" + creds.Password
		c, err := e.Connect(ctx, bad)
		if err == nil {
			c.Close()
			t.Skip("the test server trusts this client: no password check")
		}
		var de *engine.DBError
		if !errors.As(err, &de) || de.SQLState != "28P01" {
			t.Fatalf("err = %v, want DBError 28P01", err)
		}
	})
	t.Run("unknown role", func(t *testing.T) {
		bad := creds
		bad.User = "sqlgate_pgeng_nobody"
		_, err := e.Connect(ctx, bad)
		var de *engine.DBError
		if !errors.As(err, &de) || (de.SQLState != "28000" && de.SQLState != "28P01") {
			t.Fatalf("err = %#v, want DBError 28000/28P01", err)
		}
		if errors.Is(err, engine.ErrUnavailable) {
			t.Fatal("login failure classified as unavailable")
		}
	})
	t.Run("empty database is the user's", func(t *testing.T) {
		def := creds
		def.Database = ""
		c, err := e.Connect(ctx, def)
		if err == nil {
			defer c.Close()
			res, err := c.Exec(ctx, "SELECT current_database()", nil, 0)
			if err != nil || res.Rows[0][0].String != creds.User {
				t.Fatalf("current_database() = %v, %v; want %q", res, err, creds.User)
			}
			return
		}
		var de *engine.DBError
		if !errors.As(err, &de) || de.SQLState != "3D000" || de.Message != `FATAL: database "`+creds.User+`" does not exist` {
			t.Fatalf("err = %#v, want DBError 3D000", err)
		}
	})
	t.Run("invalid TLS mode", func(t *testing.T) {
		_, err := New(Config{TLSMode: "sometimes"}).Connect(ctx, creds)
		if err == nil || errors.Is(err, engine.ErrUnavailable) {
			t.Fatalf("err = %v, want a config error", err)
		}
	})
	t.Run("ok", func(t *testing.T) {
		c, err := e.Connect(ctx, creds)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		res, err := c.Exec(ctx, "SELECT current_setting('TimeZone'), current_setting('extra_float_digits')", nil, 0)
		if err != nil || res.Rows[0][0].String != "UTC" || res.Rows[0][1].String != "3" {
			t.Fatalf("settings = %v, %v", res, err)
		}
		if c.Broken() {
			t.Fatal("new conn broken")
		}
	})
}

func TestEngine_Name(t *testing.T) {
	if got := New(Config{}).Name(); got != "postgres" {
		t.Fatalf("Name() = %q", got)
	}
}
