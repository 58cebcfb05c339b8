package rdsapi

import (
	"strings"
	"testing"

	"github.com/sqlgate/sqlgate/internal/config"
)

// TestAPI_ReadOnlyEndpoints: READ_ONLY endpoints are created and shown
// with their role; a file proxy's endpoints are shown, keep their names
// and cannot be deleted online.
func TestAPI_ReadOnlyEndpoints(t *testing.T) {
	a := newTestAPIWith(t, []config.ProxyEndpoint{{Name: "pg-file-ro", Listen: "127.0.0.1:16433", TargetRole: config.TargetReadOnly}})
	code, out := call(t, a, v+"Action=CreateDBProxyEndpoint&DBProxyName=pg&DBProxyEndpointName=pg-ro&VpcSubnetIds.member.1=s&TargetRole=READ_ONLY")
	if code != 200 || !strings.Contains(out, "<TargetRole>READ_ONLY</TargetRole>") || !strings.Contains(out, "<Endpoint>127.0.0.1:17000</Endpoint>") {
		t.Fatalf("create READ_ONLY: %d %s", code, out)
	}
	code, out = call(t, a, v+"Action=CreateDBProxyEndpoint&DBProxyName=pg&DBProxyEndpointName=pg-rw&VpcSubnetIds.member.1=s")
	if code != 200 || !strings.Contains(out, "<TargetRole>READ_WRITE</TargetRole>") {
		t.Fatalf("create without a role: %d %s", code, out)
	}
	_, out = call(t, a, v+"Action=DescribeDBProxyEndpoints&DBProxyName=pg")
	for _, want := range []string{
		"<DBProxyEndpointName>pg-file-ro</DBProxyEndpointName>", "<Endpoint>127.0.0.1:16433</Endpoint>",
		"<DBProxyEndpointName>pg-ro</DBProxyEndpointName>",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("describe: no %s in %s", want, out)
		}
	}
	if n := strings.Count(out, "<TargetRole>READ_ONLY</TargetRole>"); n != 2 {
		t.Fatalf("describe: %d READ_ONLY endpoints, want 2: %s", n, out)
	}
	if code, out := call(t, a, v+"Action=CreateDBProxyEndpoint&DBProxyName=pg&DBProxyEndpointName=pg-file-ro&VpcSubnetIds.member.1=s"); code != 400 || !strings.Contains(out, "DBProxyEndpointAlreadyExistsFault") {
		t.Fatalf("create over a file endpoint's name: %d %s", code, out)
	}
	if code, out := call(t, a, v+"Action=DeleteDBProxyEndpoint&DBProxyEndpointName=pg-file-ro"); code != 400 || !strings.Contains(out, "InvalidDBProxyEndpointStateFault") {
		t.Fatalf("delete a file endpoint: %d %s", code, out)
	}
	if code, out := call(t, a, v+"Action=CreateDBProxyEndpoint&DBProxyName=pg&DBProxyEndpointName=bad&VpcSubnetIds.member.1=s&TargetRole=READ"); code != 400 || !strings.Contains(out, "InvalidParameterValue") {
		t.Fatalf("unknown role: %d %s", code, out)
	}
}
