package iam

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated table in docs/iam.md")

const (
	docPath  = "../../docs/iam.md"
	docBegin = "<!-- BEGIN generated condition-key table: go test ./internal/iam -run TestDocKeyTable -update -->\n"
	docEnd   = "<!-- END generated condition-key table -->"
)

// TestDocKeyTable fails when docs/iam.md's table of condition keys per
// action differs from the table the evaluator uses.
func TestDocKeyTable(t *testing.T) {
	raw, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i, j := strings.Index(doc, docBegin), strings.Index(doc, docEnd)
	if i < 0 || j < i {
		t.Fatalf("%s has no generated-table markers", docPath)
	}
	want := KeyTableMarkdown()
	if got := doc[i+len(docBegin) : j]; got != want {
		if !*update {
			t.Fatalf("%s: the condition-key table is stale; run go test ./internal/iam -run TestDocKeyTable -update", docPath)
		}
		if err := os.WriteFile(docPath, []byte(doc[:i+len(docBegin)]+want+doc[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestKeyTable checks the table itself: every action is a concrete
// "service:Action", no key is listed twice for one action, and every key
// name is one the policy parser accepts.
func TestKeyTable(t *testing.T) {
	for _, a := range append(Actions(), GlobalKeys) {
		if a.Action != "*" && !validAction(a.Action) {
			t.Errorf("bad action %q", a.Action)
		}
		seen := map[string]bool{}
		for _, k := range append(append(append([]string{}, a.Supplied...), a.Absent...), a.Unsupported...) {
			lk := strings.ToLower(k)
			if seen[lk] {
				t.Errorf("%s: %s listed twice", a.Action, k)
			}
			seen[lk] = true
			if !validKeyName(strings.ReplaceAll(k, "${TagKey}", "x")) {
				t.Errorf("%s: bad key %q", a.Action, k)
			}
		}
	}
	for _, tc := range []struct {
		action, key string
		want        KeyKind
	}{
		{"secretsmanager:GetSecretValue", "aws:ResourceTag/stage", KeySupplied},
		{"secretsmanager:getsecretvalue", "SECRETSMANAGER:RESOURCETAG/Stage", KeySupplied},
		{"secretsmanager:CreateSecret", "secretsmanager:KmsKeyArn", KeyUnsupported},
		{"iam:AttachUserPolicy", "iam:PolicyARN", KeySupplied},
		{"iam:AttachUserPolicy", "iam:PermissionsBoundary", KeyAbsent},
		{"rds-data:ExecuteStatement", "aws:SourceVpce", KeyAbsent},
		{"rds-data:ExecuteStatement", "aws:MultiFactorAuthPresent", KeySupplied},
		{"rds-data:ExecuteStatement", "secretsmanager:VersionId", KeyOther},
		{"s3:GetObject", "aws:SourceIp", KeySupplied},
	} {
		if got := KindOf(tc.action, tc.key); got != tc.want {
			t.Errorf("KindOf(%s, %s) = %v, want %v", tc.action, tc.key, got, tc.want)
		}
	}
}
