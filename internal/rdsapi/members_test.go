package rdsapi

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/sqlgate/sqlgate/internal/state"
)

// TestAPI_ClusterMembers: a cluster with a topology shows its instances
// as DBClusterMembers, the current writer flagged, and its Endpoint is
// the writer's.
func TestAPI_ClusterMembers(t *testing.T) {
	st, err := state.OpenSQLite(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	cat := fakeCatalog{clusters: []ClusterInfo{{Name: "rep", Engine: "postgres", Address: "10.0.0.2:5433",
		Members: []Member{{Address: "10.0.0.1:5432"}, {Address: "10.0.0.2:5433", Writer: true}}}}}
	a := New(Config{Region: "us-east-1", Account: "000000000000", ProxyHost: "127.0.0.1", PortFirst: 17000, PortLast: 17003},
		NewStore(st), cat, allowAll{})
	code, out := call(t, a, v+"Action=DescribeDBClusters&DBClusterIdentifier=rep")
	if code != 200 {
		t.Fatalf("%d: %s", code, out)
	}
	for _, want := range []string{
		"<Endpoint>10.0.0.2</Endpoint>", "<Port>5433</Port>",
		"<DBClusterMember><DBInstanceIdentifier>rep-instance-1</DBInstanceIdentifier><IsClusterWriter>false</IsClusterWriter>",
		"<DBClusterMember><DBInstanceIdentifier>rep-instance-2</DBInstanceIdentifier><IsClusterWriter>true</IsClusterWriter>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("response lacks %s:\n%s", want, out)
		}
	}
}
