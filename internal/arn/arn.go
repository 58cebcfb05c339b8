// Package arn parses and formats Amazon Resource Names as sqlgate uses them:
// arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE.
package arn

import (
	"errors"
	"strings"
)

// ARN is a parsed Amazon Resource Name.
type ARN struct {
	Partition string
	Service   string
	Region    string
	Account   string
	Resource  string // everything after the fifth colon, e.g. "cluster:maria"
}

// ErrInvalid is returned by Parse for a string that is not an ARN.
var ErrInvalid = errors.New("invalid ARN")

// Parse splits s into its parts. It accepts only "arn:" strings with six
// colon-separated sections and a non-empty partition, service and resource.
func Parse(s string) (ARN, error) {
	if len(s) > 2048 {
		return ARN{}, ErrInvalid
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" || parts[5] == "" {
		return ARN{}, ErrInvalid
	}
	return ARN{Partition: parts[1], Service: parts[2], Region: parts[3], Account: parts[4], Resource: parts[5]}, nil
}

// String formats a as "arn:partition:service:region:account:resource".
func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.Account + ":" + a.Resource
}

// IsARN reports whether s looks like an ARN (starts with "arn:").
func IsARN(s string) bool { return strings.HasPrefix(s, "arn:") }

// Cluster returns the RDS cluster ARN for name.
func Cluster(region, account, name string) string {
	return ARN{Partition: "aws", Service: "rds", Region: region, Account: account, Resource: "cluster:" + name}.String()
}

// ClusterName returns the cluster name of an RDS cluster ARN, or ErrInvalid.
func ClusterName(s string) (ARN, string, error) {
	a, err := Parse(s)
	if err != nil {
		return ARN{}, "", err
	}
	name, ok := strings.CutPrefix(a.Resource, "cluster:")
	if a.Service != "rds" || !ok || name == "" {
		return ARN{}, "", ErrInvalid
	}
	return a, name, nil
}

// Secret returns the Secrets Manager ARN for a secret name with its 6-char suffix.
func Secret(region, account, name, suffix string) string {
	return ARN{Partition: "aws", Service: "secretsmanager", Region: region, Account: account, Resource: "secret:" + name + "-" + suffix}.String()
}
