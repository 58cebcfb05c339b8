package pgproxy

import (
	"fmt"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/proxy"
	"github.com/sqlgate/sqlgate/internal/proxy/proxytest"
	"github.com/sqlgate/sqlgate/internal/testdb"
)

// A client that stops answering in the middle of SCRAM gets PostgreSQL's
// FATAL 57014 "canceling authentication due to timeout" when the startup
// time runs out, not a connection closed mid-exchange.
func TestAuthTimeout(t *testing.T) {
	u, err := url.Parse(testdb.PGURL(t))
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	secrets := proxytest.NewSecrets(map[string]string{
		"app": fmt.Sprintf(`{"username":%q,"password":%q,"dbname":%q}`, u.User.Username(), pw, u.Path[1:])})
	cl := config.Cluster{Name: "pg", Engine: "postgres", Address: u.Host, MaxConnections: 2, TLS: config.ClusterTLS{Mode: "disable"},
		Proxy: &config.Proxy{Listen: "127.0.0.1:0", AuthSecrets: []string{"app"}, IAMAuth: "disabled",
			MaxClientConnections: 10, BorrowTimeout: 10 * time.Second, IdleClientTimeout: time.Minute}}
	log, _ := proxytest.Logger()
	srv, err := New(proxy.Deps{Cluster: cl, DataDir: t.TempDir(), Budget: proxytest.NewBudget(2), Secrets: secrets, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	srv.startupTimeout = 300 * time.Millisecond
	addr := testdb.Serve(t, srv)

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	fe := pgproto3.NewFrontend(c, c)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
		Parameters: map[string]string{"user": u.User.Username(), "database": u.Path[1:]}})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	if m, err := fe.Receive(); err != nil {
		t.Fatal(err)
	} else if _, ok := m.(*pgproto3.AuthenticationSASL); !ok {
		t.Fatalf("first answer %T, want AuthenticationSASL", m)
	}
	// The client stalls here, as one starved of CPU would.
	m, err := fe.Receive()
	er, ok := m.(*pgproto3.ErrorResponse)
	if err != nil || !ok || er.Code != "57014" || er.Severity != "FATAL" {
		t.Fatalf("after the startup time: %#v, %v; want FATAL 57014", m, err)
	}
}
