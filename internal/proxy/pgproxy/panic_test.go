package pgproxy

import (
	"context"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/proxy/proxytest"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// panickingTokens is a token verifier with a bug: a token signed "boom"
// makes it panic, as a decoder reaching an impossible state would, inside
// the session's authentication exchange. Other tokens are checked as
// proxytest.Tokens does.
type panickingTokens struct{ proxytest.Tokens }

func (p panickingTokens) VerifyDBToken(ctx context.Context, token, cluster, user string) error {
	if strings.HasSuffix(token, "X-Amz-Signature=boom") {
		panic("BUG: injected into the session's authentication")
	}
	return p.Tokens.VerifyDBToken(ctx, token, cluster, user)
}

// TestServer_panicInSessionLeavesProxyServing: a panic inside one
// client's session (here in its authentication) closes that connection
// only; a client already connected keeps its session and new clients
// still connect, and the panic is logged with its stack.
func TestServer_panicInSessionLeavesProxyServing(t *testing.T) {
	u, err := url.Parse(testdb.PGURL(t))
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	tp := &testProxy{budget: proxytest.NewBudget(2), db: u, user: u.User.Username(), pass: pw, dbname: u.Path[1:]}
	cl := config.Cluster{Name: "pg", Engine: "postgres", Address: u.Host, MaxConnections: 2, TLS: config.ClusterTLS{Mode: "disable"},
		Proxy: &config.Proxy{Listen: "127.0.0.1:0", AuthSecrets: []string{"app"}, IAMAuth: "required",
			MaxClientConnections: 100, BorrowTimeout: 10 * time.Second, IdleClientTimeout: time.Minute}}
	tp.serve(t, cl, panickingTokens{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	host, port, _ := net.SplitHostPort(tp.addr)
	connect := func(token string) (*pgx.Conn, error) {
		return pgx.Connect(ctx, "postgres://"+url.PathEscape(tp.user)+":"+url.QueryEscape(token)+"@"+host+":"+port+"/"+tp.dbname+"?sslmode=disable")
	}
	before, err := connect(proxytest.Token(tp.user))
	if err != nil {
		t.Fatal(err)
	}
	defer before.Close(ctx)

	boom := "127.0.0.1:5432/?Action=connect&DBUser=" + tp.user + "&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=boom"
	if c, err := connect(boom); err == nil {
		c.Close(ctx)
		t.Fatal("a session whose authentication panicked was let in")
	}

	var one int
	if err := before.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("the client connected before the panic: %d, %v", one, err)
	}
	after, err := connect(proxytest.Token(tp.user))
	if err != nil {
		t.Fatalf("a client connecting after the panic: %v", err)
	}
	defer after.Close(ctx)
	if err := after.QueryRow(ctx, "SELECT 2").Scan(&one); err != nil || one != 2 {
		t.Fatalf("a client connecting after the panic: %d, %v", one, err)
	}
	logs := tp.logs.String()
	if !strings.Contains(logs, "injected into the session") || !strings.Contains(logs, "goroutine") {
		t.Errorf("the panic was not logged with its stack:\n%s", logs)
	}
}
