package main

import (
	"os"
	"sort"
	"strings"
	"testing"
)

// allowedDirect is the reviewed set of direct dependencies (CONTRIBUTING.md
// "Dependencies"). Adding one needs a written reason in the commit message
// and an entry here.
var allowedDirect = map[string]string{
	"github.com/jackc/pgx/v5":                             "PostgreSQL engine (MIT)",
	"github.com/go-sql-driver/mysql":                      "MySQL/MariaDB engine (MPL-2.0)",
	"modernc.org/sqlite":                                  "embedded SQLite and state store, pure Go (BSD-3-Clause)",
	"go.yaml.in/yaml/v3":                                  "the one config-format library (MIT, Apache-2.0)",
	"github.com/aws/aws-sdk-go-v2":                        "tests only: the real SDK view (Apache-2.0)",
	"github.com/aws/aws-sdk-go-v2/credentials":            "tests only (Apache-2.0)",
	"github.com/aws/aws-sdk-go-v2/service/apigateway":     "tests only: the API Gateway API through a real client (Apache-2.0)",
	"github.com/aws/aws-sdk-go-v2/service/rdsdata":        "tests only (Apache-2.0)",
	"github.com/aws/aws-sdk-go-v2/service/rds":            "tests only: the RDS API (proxies, Data API switch) through the real client (Apache-2.0)",
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager": "tests only (Apache-2.0)",
	"github.com/aws/smithy-go":                            "tests only: SDK error types (Apache-2.0)",
	"github.com/aws/aws-sdk-go-v2/config":                 "tests only: the SDK's default credential chain, as a function uses it (Apache-2.0)",
	"github.com/aws/aws-sdk-go-v2/service/sts":            "tests only: AssumeRoleWithWebIdentity with a real client (Apache-2.0)",
	"go.uber.org/goleak":                                  "tests only: goroutine-leak check in TestMain of the packages that start goroutines (MIT)",
}

func TestDeps_Direct(t *testing.T) {
	b, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	inBlock := false
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "require (":
			inBlock = true
			continue
		case line == ")":
			inBlock = false
			continue
		case strings.HasPrefix(line, "require "):
			line = strings.TrimPrefix(line, "require ")
		case !inBlock:
			continue
		}
		if line == "" || strings.Contains(line, "// indirect") {
			continue
		}
		got = append(got, strings.Fields(line)[0])
	}
	sort.Strings(got)
	for _, m := range got {
		if _, ok := allowedDirect[m]; !ok {
			t.Errorf("direct dependency %s is not in the reviewed set (cmd/sqlgate/deps_test.go)", m)
		}
	}
}
