package rdsapi

import (
	"encoding/xml"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// pageOut is the part of a describe answer paging needs.
type pageOut struct {
	Names  []string `xml:"DescribeDBProxiesResult>DBProxies>member>DBProxyName"`
	Marker string   `xml:"DescribeDBProxiesResult>Marker"`
}

// createListened creates n online proxies with explicit listen addresses
// (the test API's port range holds only four).
func createListened(t *testing.T, a *API, n int) {
	t.Helper()
	for i := range n {
		body := fmt.Sprintf(v+"Action=CreateDBProxy&DBProxyName=p%02d&EngineFamily=MYSQL&RoleArn=r&VpcSubnetIds.member.1=s"+
			"&Auth.member.1.SecretArn=x&Tags.Tag.1.Key=sqlgate%%3Alisten&Tags.Tag.1.Value=127.0.0.1%%3A%d", i, 18000+i)
		if code, out := call(t, a, body); code != 200 {
			t.Fatalf("create %d: %d %s", i, code, out)
		}
	}
}

// describeAll pages through DescribeDBProxies with MaxRecords=max; before
// asking for page 2 it runs between.
func describeAll(t *testing.T, a *API, max int, between func()) (names []string, pages int) {
	t.Helper()
	marker := ""
	for {
		body := v + "Action=DescribeDBProxies&MaxRecords=" + fmt.Sprint(max)
		if marker != "" {
			body += "&Marker=" + url.QueryEscape(marker)
		}
		code, out := call(t, a, body)
		if code != 200 {
			t.Fatalf("%d %s", code, out)
		}
		var p pageOut
		if err := xml.Unmarshal([]byte(out), &p); err != nil {
			t.Fatal(err)
		}
		if len(p.Names) > max {
			t.Fatalf("page of %d records with MaxRecords=%d", len(p.Names), max)
		}
		names = append(names, p.Names...)
		pages++
		if pages == 1 && between != nil {
			between()
		}
		if p.Marker == "" {
			return names, pages
		}
		marker = p.Marker
	}
}

// TestAPI_Paging: DescribeDBProxies pages by MaxRecords with a Marker;
// every proxy appears once, and a proxy deleted between pages neither
// repeats nor hides the others.
func TestAPI_Paging(t *testing.T) {
	a := newTestAPI(t)
	createListened(t, a, 44) // + the file proxy pg = 45
	names, pages := describeAll(t, a, 20, nil)
	if len(names) != 45 || pages != 3 {
		t.Fatalf("%d names in %d pages: %v", len(names), pages, names)
	}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			t.Fatalf("%s twice", n)
		}
		seen[n] = true
	}
	// The default page is 100 records: one page, no marker.
	if _, pages := describeAll(t, a, 100, nil); pages != 1 {
		t.Fatalf("%d pages of 100", pages)
	}
	// Deleting a proxy of the first page between pages shifts nothing.
	names, _ = describeAll(t, a, 20, func() { call(t, a, v+"Action=DeleteDBProxy&DBProxyName=p03") })
	if len(names) != 45 || strings.Count(strings.Join(names, ","), "p20") != 1 {
		t.Fatalf("after a delete between pages: %d %v", len(names), names)
	}
}

// TestAPI_PagingBadInput: MaxRecords outside 20..100 and a forged marker
// are InvalidParameterValue on every describe call.
func TestAPI_PagingBadInput(t *testing.T) {
	a := newTestAPI(t)
	for _, action := range []string{"DescribeDBClusters", "DescribeDBProxies", "DescribeDBProxyTargets&DBProxyName=pg",
		"DescribeDBProxyTargetGroups&DBProxyName=pg", "DescribeDBProxyEndpoints"} {
		for _, bad := range []string{"MaxRecords=19", "MaxRecords=101", "MaxRecords=x", "Marker=%21%21", "Marker=eDp5"} {
			code, out := call(t, a, v+"Action="+action+"&"+bad)
			if code != 400 || !strings.Contains(out, "<Code>InvalidParameterValue</Code>") {
				t.Errorf("%s %s: %d %s", action, bad, code, out)
			}
		}
		for _, ok := range []string{"MaxRecords=20", "MaxRecords=100"} {
			if code, out := call(t, a, v+"Action="+action+"&"+ok); code != 200 {
				t.Errorf("%s %s: %d %s", action, ok, code, out)
			}
		}
	}
}

// TestAPI_Filters: DescribeDBClusters takes RDS's cluster filters; the
// proxy describe calls take none.
func TestAPI_Filters(t *testing.T) {
	a := newTestAPI(t)
	ids := func(body string) string {
		code, out := call(t, a, v+"Action=DescribeDBClusters&"+body)
		if code != 200 {
			return out
		}
		var r struct {
			IDs []string `xml:"DescribeDBClustersResult>DBClusters>DBCluster>DBClusterIdentifier"`
		}
		if err := xml.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		return strings.Join(r.IDs, ",")
	}
	arn := url.QueryEscape(a.clusterARN("my"))
	for body, want := range map[string]string{
		"": "pg,my",
		"Filters.Filter.1.Name=engine&Filters.Filter.1.Values.Value.1=mysql":                                                                        "my",
		"Filters.Filter.1.Name=engine&Filters.Filter.1.Values.Value.1=mysql&Filters.Filter.1.Values.Value.2=postgres":                               "pg,my",
		"Filters.Filter.1.Name=db-cluster-id&Filters.Filter.1.Values.Value.1=" + arn:                                                                "my",
		"Filters.Filter.1.Name=db-cluster-id&Filters.Filter.1.Values.Value.1=pg&Filters.Filter.2.Name=engine&Filters.Filter.2.Values.Value.1=mysql": "",
		"Filters.Filter.1.Name=db-cluster-resource-id&Filters.Filter.1.Values.Value.1=" + a.clusterResourceID("pg"):                                 "pg",
		"Filters.Filter.1.Name=domain&Filters.Filter.1.Values.Value.1=d-1":                                                                          "",
		"DBClusterIdentifier=pg&Filters.Filter.1.Name=engine&Filters.Filter.1.Values.Value.1=mysql":                                                 "",
	} {
		if got := ids(body); got != want {
			t.Errorf("%s: got %q, want %q", body, got, want)
		}
	}
	for _, body := range []string{
		"Action=DescribeDBClusters&Filters.Filter.1.Name=status&Filters.Filter.1.Values.Value.1=available",
		"Action=DescribeDBClusters&Filters.Filter.1.Name=engine",
		"Action=DescribeDBProxies&Filters.Filter.1.Name=engine&Filters.Filter.1.Values.Value.1=x",
		"Action=DescribeDBProxyEndpoints&Filters.Filter.1.Name=engine&Filters.Filter.1.Values.Value.1=x",
		"Action=DescribeDBProxyTargets&DBProxyName=pg&Filters.Filter.1.Name=x&Filters.Filter.1.Values.Value.1=x",
	} {
		if code, out := call(t, a, v+body); code != 400 || !strings.Contains(out, "<Code>InvalidParameterValue</Code>") {
			t.Errorf("%s: %d %s", body, code, out)
		}
	}
}
