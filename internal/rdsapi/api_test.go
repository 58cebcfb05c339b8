package rdsapi

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sqlgate/sqlgate/internal/awsquery"
	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/state"
)

// fakeCatalog is a Catalog from fixed lists.
type fakeCatalog struct {
	clusters []ClusterInfo
	files    []FileProxy
}

var _ Catalog = fakeCatalog{}

func (c fakeCatalog) Clusters() []ClusterInfo                         { return c.clusters }
func (c fakeCatalog) FileProxies() []FileProxy                        { return c.files }
func (fakeCatalog) CheckTarget(context.Context, Proxy) Health         { return Health{State: "AVAILABLE"} }
func (fakeCatalog) ClusterStatus(context.Context, ClusterInfo) string { return "available" }
func (fakeCatalog) ListenerStatus(Proxy, string) string               { return "available" }

// allowAll authorizes everything.
type allowAll struct{}

func (allowAll) Authorize(context.Context, string, string) error { return nil }

// newTestAPI returns an API over a SQLite state store with clusters pg
// (postgres, with a file proxy) and my (mysql).
func newTestAPI(tb testing.TB) *API {
	tb.Helper()
	return newTestAPIWith(tb, nil)
}

// newTestAPIWith is newTestAPI with the file proxy's endpoints eps.
func newTestAPIWith(tb testing.TB, eps []config.ProxyEndpoint) *API {
	tb.Helper()
	st, err := state.OpenSQLite(filepath.Join(tb.TempDir(), "state.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	pg := config.Cluster{Name: "pg", Engine: "postgres", Address: "127.0.0.1:5432", MaxConnections: 10,
		Proxy: &config.Proxy{Listen: "127.0.0.1:16432", AuthSecrets: []string{"pg-proxy"}, IAMAuth: "optional", Endpoints: eps}}
	cat := fakeCatalog{
		clusters: []ClusterInfo{{Name: "pg", Engine: "postgres", Address: "127.0.0.1:5432", DataAPI: true},
			{Name: "my", Engine: "mysql", Address: "127.0.0.1:3306", DataAPI: false}},
		files: []FileProxy{{Name: "pg", Cluster: pg}},
	}
	return New(Config{Region: "us-east-1", Account: "000000000000", ProxyHost: "127.0.0.1", PortFirst: 17000, PortLast: 17003},
		NewStore(st), cat, allowAll{})
}

// call runs one request and checks the envelope: 200 with
// <ActionResponse>, or an RDS ErrorResponse whose code is the outcome.
func call(tb testing.TB, a *API, body string) (int, string) {
	tb.Helper()
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	outcome := a.Handle(w, r, []byte(body), "req-1")
	out := w.Body.String()
	if w.Code == http.StatusOK {
		if outcome != "ok" || !strings.Contains(out, "Response xmlns=\""+Namespace2014+"\"") {
			tb.Fatalf("200 without a response envelope: %s", out)
		}
	} else {
		var er awsquery.ErrorResponse
		if err := xml.Unmarshal(w.Body.Bytes(), &er); err != nil || er.Error.Code != outcome || er.Xmlns != Namespace2014 {
			tb.Fatalf("%d with a bad error body (%v): %s", w.Code, err, out)
		}
	}
	if w.Code >= 500 {
		tb.Fatalf("server error for user input %q: %s", body, out)
	}
	return w.Code, out
}

const v = "Version=2014-10-31&"

func TestAPI_FileProxyOverrides(t *testing.T) {
	a := newTestAPI(t)
	// The file proxy appears under its cluster's name.
	if code, out := call(t, a, v+"Action=DescribeDBProxies"); code != 200 || !strings.Contains(out, "<DBProxyName>pg</DBProxyName>") ||
		!strings.Contains(out, "<Endpoint>127.0.0.1:16432</Endpoint>") {
		t.Fatalf("%d %s", code, out)
	}
	// An override is stored and shown; setting the file's value clears it.
	call(t, a, v+"Action=ModifyDBProxyTargetGroup&DBProxyName=pg&TargetGroupName=default&ConnectionPoolConfig.ConnectionBorrowTimeout=9")
	_, out := call(t, a, v+"Action=DescribeDBProxyTargetGroups&DBProxyName=pg")
	if !strings.Contains(out, "<ConnectionBorrowTimeout>9</ConnectionBorrowTimeout>") {
		t.Fatalf("override not shown: %s", out)
	}
	recs, _ := a.store.Proxies(context.Background())
	if r := recs["pg"]; r.Source != SourceFile || r.Settings.BorrowTimeout == nil || *r.Settings.BorrowTimeout != 9 {
		t.Fatalf("stored override: %+v", recs)
	}
	call(t, a, v+"Action=ModifyDBProxy&DBProxyName=pg&RequireTLS=false")
	if recs, _ := a.store.Proxies(context.Background()); recs["pg"].Settings.RequireTLS != nil {
		t.Fatalf("an override equal to the file's value is kept: %+v", recs["pg"].Settings)
	}
	// Deleting a file proxy clears its overrides; the proxy stays.
	call(t, a, v+"Action=DeleteDBProxy&DBProxyName=pg")
	if recs, _ := a.store.Proxies(context.Background()); len(recs) != 0 {
		t.Fatalf("overrides left: %+v", recs)
	}
	if code, _ := call(t, a, v+"Action=DescribeDBProxies&DBProxyName=pg"); code != 200 {
		t.Fatal("file proxy gone")
	}
	// Its structure stays the file's.
	if code, out := call(t, a, v+"Action=ModifyDBProxy&DBProxyName=pg&NewDBProxyName=other"); code != 400 || !strings.Contains(out, "InvalidDBProxyStateFault") {
		t.Fatalf("rename of a file proxy: %d %s", code, out)
	}
	if code, out := call(t, a, v+"Action=DeregisterDBProxyTargets&DBProxyName=pg&DBClusterIdentifiers.member.1=pg"); code != 400 || !strings.Contains(out, "InvalidDBProxyStateFault") {
		t.Fatalf("deregister a file proxy's target: %d %s", code, out)
	}
}

func TestAPI_Ports(t *testing.T) {
	a := newTestAPI(t)
	create := func(name string) (int, string) {
		return call(t, a, v+"Action=CreateDBProxy&DBProxyName="+name+"&EngineFamily=MYSQL&RoleArn=r&VpcSubnetIds.member.1=s&Auth.member.1.SecretArn=x")
	}
	for i, want := range []string{"17000", "17001", "17002", "17003"} {
		code, out := create("p" + string(rune('a'+i)))
		if code != 200 || !strings.Contains(out, "<Endpoint>127.0.0.1:"+want+"</Endpoint>") {
			t.Fatalf("proxy %d: %d %s", i, code, out)
		}
	}
	if code, out := create("full"); code != 400 || !strings.Contains(out, "DBProxyQuotaExceededFault") {
		t.Fatalf("range exhausted: %d %s", code, out)
	}
	call(t, a, v+"Action=DeleteDBProxy&DBProxyName=pb")
	if code, out := create("again"); code != 200 || !strings.Contains(out, ":17001</Endpoint>") {
		t.Fatalf("freed port reused: %d %s", code, out)
	}
}

// FuzzHandle feeds arbitrary bodies to the API: it never panics and
// always answers with the response envelope or an RDS XML error below 500.
func FuzzHandle(f *testing.F) {
	for _, s := range []string{
		v + "Action=DescribeDBClusters",
		v + "Action=DescribeDBClusters&DBClusterIdentifier=arn%3Aaws%3Ards%3Aus-east-1%3A000000000000%3Acluster%3Apg",
		v + "Action=EnableHttpEndpoint&ResourceArn=arn%3Aaws%3Ards%3Aus-east-1%3A000000000000%3Acluster%3Amy",
		v + "Action=CreateDBProxy&DBProxyName=p&EngineFamily=POSTGRESQL&RoleArn=r&VpcSubnetIds.member.1=s&Auth.member.1.SecretArn=x&Auth.member.1.IAMAuth=REQUIRED&Tags.Tag.1.Key=k&Tags.Tag.1.Value=v",
		v + "Action=RegisterDBProxyTargets&DBProxyName=p&DBClusterIdentifiers.member.1=pg",
		v + "Action=ModifyDBProxyTargetGroup&DBProxyName=p&TargetGroupName=default&ConnectionPoolConfig.MaxConnectionsPercent=50&ConnectionPoolConfig.SessionPinningFilters.member.1=EXCLUDE_VARIABLE_SETS",
		v + "Action=CreateDBProxyEndpoint&DBProxyName=pg&DBProxyEndpointName=e&VpcSubnetIds.member.1=s&Tags.Tag.1.Key=sqlgate%3Alisten&Tags.Tag.1.Value=127.0.0.1%3A1",
		v + "Action=DescribeDBProxyEndpoints&DBProxyName=pg",
		v + "Action=DescribeDBProxies&MaxRecords=20&Marker=MjA6cHJ4LTE",
		v + "Action=DescribeDBClusters&Filters.Filter.1.Name=engine&Filters.Filter.1.Values.Value.1=mysql",
		v + "Action=DescribeDBProxyTargets&DBProxyName=pg",
		v + "Action=ModifyDBProxy&DBProxyName=p&NewDBProxyName=q&IdleClientTimeout=60&DebugLogging=true",
		v + "Action=AddTagsToResource&ResourceName=arn%3Aaws%3Ards%3Aus-east-1%3A000000000000%3Acluster%3Apg&Tags.Tag.1.Key=a&Tags.Tag.1.Value=b",
		v + "Action=RemoveTagsFromResource&ResourceName=arn%3Aaws%3Ards%3Aus-east-1%3A000000000000%3Acluster%3Apg&TagKeys.member.1=a",
		v + "Action=DeleteDBProxy&DBProxyName=q",
		"Action=DescribeDBProxies&Version=2014-10-31&DBProxyName=%ff",
		"%zz", "Action=&Version=", v + "Action=CreateDBProxy&Auth.member.99999999999999999999.SecretArn=x",
	} {
		f.Add(s)
	}
	a := newTestAPI(f)
	f.Fuzz(func(t *testing.T, body string) {
		call(t, a, body)
	})
}
