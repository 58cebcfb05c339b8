package iam

import (
	"fmt"
	"testing"
)

// The evaluation suite: policy documents × request contexts → explicit
// Allow, explicit Deny or implicit deny, with the expected decisions taken
// from AWS's documentation of the evaluation logic, the condition operators
// (missing keys, …IfExists, Null), multivalued keys (ForAllValues,
// ForAnyValue) and policy variables:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html

// condRow is one condition against one request. match is whether the
// condition holds: yes, no, or unknown (indeterminate: fails closed).
type condRow struct {
	name    string
	op, key string
	values  string   // policy values, JSON
	req     []string // request values of key; nil = key missing
	match   tri
	action  string     // default secretsmanager:GetSecretValue
	p       *Principal // default bob
	extra   map[string][]string
	version string // default 2012-10-17
}

var alice = &Principal{ARN: "arn:aws:iam::000000000000:user/alice", UserName: "alice", UserID: "AIDAALICE",
	Tags: map[string]string{"team": "data"}}

var condRows = []condRow{
	// String operators: case-sensitive, values ORed, missing key false;
	// the negated forms NOR their values and are true on a missing key.
	{name: "StringEquals match", op: "StringEquals", key: "aws:ResourceTag/stage", values: `"prod"`, req: []string{"prod"}, match: yes},
	{name: "StringEquals is case-sensitive", op: "StringEquals", key: "aws:ResourceTag/stage", values: `"prod"`, req: []string{"Prod"}, match: no},
	{name: "StringEquals values are ORed", op: "StringEquals", key: "aws:ResourceTag/stage", values: `["dev","prod"]`, req: []string{"prod"}, match: yes},
	{name: "StringEquals missing key", op: "StringEquals", key: "aws:ResourceTag/stage", values: `"prod"`, match: no},
	{name: "StringNotEquals other value", op: "StringNotEquals", key: "aws:ResourceTag/stage", values: `"prod"`, req: []string{"dev"}, match: yes},
	{name: "StringNotEquals same value", op: "StringNotEquals", key: "aws:ResourceTag/stage", values: `"prod"`, req: []string{"prod"}, match: no},
	{name: "StringNotEquals missing key", op: "StringNotEquals", key: "aws:ResourceTag/stage", values: `"prod"`, match: yes},
	{name: "StringNotEquals values are NORed", op: "StringNotEquals", key: "aws:ResourceTag/stage", values: `["dev","prod"]`, req: []string{"prod"}, match: no},
	{name: "StringEqualsIgnoreCase", op: "StringEqualsIgnoreCase", key: "aws:ResourceTag/stage", values: `"PROD"`, req: []string{"prod"}, match: yes},
	{name: "StringEqualsIgnoreCase other", op: "StringEqualsIgnoreCase", key: "aws:ResourceTag/stage", values: `"PROD"`, req: []string{"dev"}, match: no},
	{name: "StringNotEqualsIgnoreCase same", op: "StringNotEqualsIgnoreCase", key: "aws:ResourceTag/stage", values: `"PROD"`, req: []string{"prod"}, match: no},
	{name: "StringNotEqualsIgnoreCase missing", op: "StringNotEqualsIgnoreCase", key: "aws:ResourceTag/stage", values: `"PROD"`, match: yes},
	{name: "StringLike star", op: "StringLike", key: "secretsmanager:Name", values: `"prod-*"`, req: []string{"prod-db"}, match: yes},
	{name: "StringLike question mark", op: "StringLike", key: "secretsmanager:Name", values: `"db-?"`, req: []string{"db-1"}, match: yes},
	{name: "StringLike question mark is one char", op: "StringLike", key: "secretsmanager:Name", values: `"db-?"`, req: []string{"db-10"}, match: no},
	{name: "StringLike no match", op: "StringLike", key: "secretsmanager:Name", values: `"prod-*"`, req: []string{"dev-db"}, match: no},
	{name: "StringLike star on missing key", op: "StringLike", key: "secretsmanager:Name", values: `"*"`, match: no},
	{name: "StringNotLike other", op: "StringNotLike", key: "secretsmanager:Name", values: `"prod-*"`, req: []string{"dev-db"}, match: yes},
	{name: "StringNotLike same", op: "StringNotLike", key: "secretsmanager:Name", values: `"prod-*"`, req: []string{"prod-db"}, match: no},
	{name: "StringNotLike missing", op: "StringNotLike", key: "secretsmanager:Name", values: `"prod-*"`, match: yes},
	{name: "StringEqualsIfExists missing", op: "StringEqualsIfExists", key: "secretsmanager:VersionStage", values: `"AWSCURRENT"`, match: yes},
	{name: "StringEqualsIfExists other", op: "StringEqualsIfExists", key: "secretsmanager:VersionStage", values: `"AWSCURRENT"`, req: []string{"AWSPREVIOUS"}, match: no},
	{name: "StringEqualsIfExists same", op: "StringEqualsIfExists", key: "secretsmanager:VersionStage", values: `"AWSCURRENT"`, req: []string{"AWSCURRENT"}, match: yes},
	{name: "StringLikeIfExists missing", op: "StringLikeIfExists", key: "secretsmanager:VersionStage", values: `"AWS*"`, match: yes},
	{name: "StringNotEqualsIfExists missing", op: "StringNotEqualsIfExists", key: "secretsmanager:VersionStage", values: `"x"`, match: yes},
	{name: "StringNotEqualsIfExists same", op: "StringNotEqualsIfExists", key: "secretsmanager:VersionStage", values: `"x"`, req: []string{"x"}, match: no},
	{name: "StringNotLikeIfExists same", op: "StringNotLikeIfExists", key: "secretsmanager:VersionStage", values: `"x*"`, req: []string{"xy"}, match: no},

	// Policy variables.
	{name: "variable aws:username", op: "StringEquals", key: "aws:ResourceTag/owner", values: `"${aws:username}"`, req: []string{"bob"}, match: yes},
	{name: "variable aws:username other", op: "StringEquals", key: "aws:ResourceTag/owner", values: `"${aws:username}"`, req: []string{"alice"}, match: no},
	{name: "variable in StringLike", op: "StringLike", key: "secretsmanager:Name", values: `"home/${aws:username}/*"`, req: []string{"home/bob/db"}, match: yes},
	{name: "variable in StringLike other user", op: "StringLike", key: "secretsmanager:Name", values: `"home/${aws:username}/*"`, req: []string{"home/alice/db"}, match: no},
	{name: "variable PrincipalTag (ABAC)", op: "StringEquals", key: "aws:ResourceTag/team", values: `"${aws:PrincipalTag/team}"`, req: []string{"data"}, match: yes, p: alice},
	{name: "variable PrincipalTag other team", op: "StringEquals", key: "aws:ResourceTag/team", values: `"${aws:PrincipalTag/team}"`, req: []string{"web"}, match: no, p: alice},
	{name: "variable without value is indeterminate", op: "StringEquals", key: "aws:ResourceTag/team", values: `"${aws:PrincipalTag/team}"`, req: []string{"data"}, match: unknown},
	{name: "variable default value", op: "StringEquals", key: "aws:ResourceTag/team", values: `"${aws:PrincipalTag/team, 'none'}"`, req: []string{"none"}, match: yes},
	{name: "substituted value is literal", op: "StringLike", key: "secretsmanager:Name", values: `"${aws:PrincipalTag/team}"`, req: []string{"dxta"}, match: no,
		p: &Principal{ARN: "arn:aws:iam::000000000000:user/w", UserName: "w", Tags: map[string]string{"team": "d*a"}}},
	{name: "escape ${*}", op: "StringEquals", key: "secretsmanager:Name", values: `"a${*}b"`, req: []string{"a*b"}, match: yes},
	{name: "escape ${$}", op: "StringEquals", key: "secretsmanager:Name", values: `"a${$}b"`, req: []string{"a$b"}, match: yes},
	{name: "2008-10-17 has no variables", op: "StringEquals", key: "secretsmanager:Name", values: `"${aws:username}"`, req: []string{"${aws:username}"}, match: yes, version: Version2008},
	{name: "2008-10-17 has no variables (user)", op: "StringEquals", key: "secretsmanager:Name", values: `"${aws:username}"`, req: []string{"bob"}, match: no, version: Version2008},

	// Numeric operators.
	{name: "NumericEquals", op: "NumericEquals", key: "secretsmanager:RecoveryWindowInDays", values: `"7"`, req: []string{"7"}, match: yes, action: "secretsmanager:DeleteSecret"},
	{name: "NumericEquals decimal", op: "NumericEquals", key: "secretsmanager:RecoveryWindowInDays", values: `"7"`, req: []string{"7.0"}, match: yes, action: "secretsmanager:DeleteSecret"},
	{name: "NumericNotEquals other", op: "NumericNotEquals", key: "secretsmanager:RecoveryWindowInDays", values: `"7"`, req: []string{"30"}, match: yes, action: "secretsmanager:DeleteSecret"},
	{name: "NumericNotEquals same", op: "NumericNotEquals", key: "secretsmanager:RecoveryWindowInDays", values: `"7"`, req: []string{"7"}, match: no, action: "secretsmanager:DeleteSecret"},
	{name: "NumericLessThan", op: "NumericLessThan", key: "secretsmanager:RecoveryWindowInDays", values: `"10"`, req: []string{"7"}, match: yes, action: "secretsmanager:DeleteSecret"},
	{name: "NumericLessThan equal", op: "NumericLessThan", key: "secretsmanager:RecoveryWindowInDays", values: `"10"`, req: []string{"10"}, match: no, action: "secretsmanager:DeleteSecret"},
	{name: "NumericLessThanEquals equal", op: "NumericLessThanEquals", key: "secretsmanager:RecoveryWindowInDays", values: `"10"`, req: []string{"10"}, match: yes, action: "secretsmanager:DeleteSecret"},
	{name: "NumericGreaterThan", op: "NumericGreaterThan", key: "secretsmanager:RecoveryWindowInDays", values: `"10"`, req: []string{"30"}, match: yes, action: "secretsmanager:DeleteSecret"},
	{name: "NumericGreaterThan equal", op: "NumericGreaterThan", key: "secretsmanager:RecoveryWindowInDays", values: `"10"`, req: []string{"10"}, match: no, action: "secretsmanager:DeleteSecret"},
	{name: "NumericGreaterThanEquals equal", op: "NumericGreaterThanEquals", key: "secretsmanager:RecoveryWindowInDays", values: `"10"`, req: []string{"10"}, match: yes, action: "secretsmanager:DeleteSecret"},
	{name: "NumericLessThan missing", op: "NumericLessThan", key: "secretsmanager:RecoveryWindowInDays", values: `"10"`, match: no, action: "secretsmanager:DeleteSecret"},
	{name: "NumericNotEquals missing", op: "NumericNotEquals", key: "secretsmanager:RecoveryWindowInDays", values: `"10"`, match: yes, action: "secretsmanager:DeleteSecret"},
	{name: "NumericLessThanIfExists missing", op: "NumericLessThanIfExists", key: "secretsmanager:RecoveryWindowInDays", values: `"10"`, match: yes, action: "secretsmanager:DeleteSecret"},
	{name: "NumericEquals malformed request value", op: "NumericEquals", key: "secretsmanager:RecoveryWindowInDays", values: `"7"`, req: []string{"seven"}, match: unknown, action: "secretsmanager:DeleteSecret"},

	// Date operators.
	{name: "DateLessThan", op: "DateLessThan", key: "aws:CurrentTime", values: `"2026-06-01T00:00:00Z"`, req: []string{"2026-01-01T00:00:00Z"}, match: yes},
	{name: "DateLessThan later", op: "DateLessThan", key: "aws:CurrentTime", values: `"2026-06-01T00:00:00Z"`, req: []string{"2027-01-01T00:00:00Z"}, match: no},
	{name: "DateGreaterThan", op: "DateGreaterThan", key: "aws:CurrentTime", values: `"2026-06-01T00:00:00Z"`, req: []string{"2027-01-01T00:00:00Z"}, match: yes},
	{name: "DateEquals", op: "DateEquals", key: "aws:CurrentTime", values: `"2026-01-01T00:00:00Z"`, req: []string{"2026-01-01T00:00:00Z"}, match: yes},
	{name: "DateNotEquals same", op: "DateNotEquals", key: "aws:CurrentTime", values: `"2026-01-01T00:00:00Z"`, req: []string{"2026-01-01T00:00:00Z"}, match: no},
	{name: "DateLessThanEquals equal", op: "DateLessThanEquals", key: "aws:CurrentTime", values: `"2026-01-01T00:00:00Z"`, req: []string{"2026-01-01T00:00:00Z"}, match: yes},
	{name: "DateGreaterThanEquals equal", op: "DateGreaterThanEquals", key: "aws:CurrentTime", values: `"2026-01-01T00:00:00Z"`, req: []string{"2026-01-01T00:00:00Z"}, match: yes},
	{name: "Date as epoch seconds", op: "DateGreaterThan", key: "aws:CurrentTime", values: `"1767225600"`, req: []string{"2026-06-01T00:00:00Z"}, match: yes},
	{name: "Date with offset", op: "DateEquals", key: "aws:CurrentTime", values: `"2026-01-01T01:00:00+01:00"`, req: []string{"2026-01-01T00:00:00Z"}, match: yes},
	{name: "TokenIssueTime missing for long-term keys", op: "DateLessThan", key: "aws:TokenIssueTime", values: `"2030-01-01T00:00:00Z"`, match: no},
	{name: "DateLessThanIfExists missing", op: "DateLessThanIfExists", key: "aws:TokenIssueTime", values: `"2020-01-01T00:00:00Z"`, match: yes},
	{name: "DateNotEquals missing", op: "DateNotEquals", key: "aws:TokenIssueTime", values: `"2020-01-01T00:00:00Z"`, match: yes},
	{name: "Date malformed request value", op: "DateLessThan", key: "aws:CurrentTime", values: `"2026-06-01T00:00:00Z"`, req: []string{"soon"}, match: unknown},

	// Bool.
	{name: "Bool true", op: "Bool", key: "aws:SecureTransport", values: `"true"`, req: []string{"true"}, match: yes},
	{name: "Bool true vs false", op: "Bool", key: "aws:SecureTransport", values: `"true"`, req: []string{"false"}, match: no},
	{name: "Bool false", op: "Bool", key: "aws:SecureTransport", values: `"false"`, req: []string{"false"}, match: yes},
	{name: "Bool JSON boolean", op: "Bool", key: "aws:SecureTransport", values: `true`, req: []string{"true"}, match: yes},
	{name: "Bool MFA missing (long-term key)", op: "Bool", key: "aws:MultiFactorAuthPresent", values: `"false"`, match: no},
	{name: "BoolIfExists MFA missing", op: "BoolIfExists", key: "aws:MultiFactorAuthPresent", values: `"false"`, match: yes},
	{name: "BoolIfExists MFA present true", op: "BoolIfExists", key: "aws:MultiFactorAuthPresent", values: `"false"`, req: []string{"true"}, match: no},
	{name: "Bool MFA false (temporary credentials)", op: "Bool", key: "aws:MultiFactorAuthPresent", values: `"false"`, req: []string{"false"}, match: yes},
	{name: "Bool malformed request value", op: "Bool", key: "aws:SecureTransport", values: `"true"`, req: []string{"maybe"}, match: unknown},

	// IP addresses.
	{name: "IpAddress in range", op: "IpAddress", key: "aws:SourceIp", values: `"203.0.113.0/24"`, req: []string{"203.0.113.5"}, match: yes},
	{name: "IpAddress out of range", op: "IpAddress", key: "aws:SourceIp", values: `"203.0.113.0/24"`, req: []string{"198.51.100.1"}, match: no},
	{name: "NotIpAddress out of range", op: "NotIpAddress", key: "aws:SourceIp", values: `"203.0.113.0/24"`, req: []string{"198.51.100.1"}, match: yes},
	{name: "NotIpAddress in range", op: "NotIpAddress", key: "aws:SourceIp", values: `"203.0.113.0/24"`, req: []string{"203.0.113.5"}, match: no},
	{name: "IpAddress several ranges", op: "IpAddress", key: "aws:SourceIp", values: `["10.0.0.0/8","203.0.113.0/24"]`, req: []string{"10.1.2.3"}, match: yes},
	{name: "NotIpAddress several ranges", op: "NotIpAddress", key: "aws:SourceIp", values: `["10.0.0.0/8","203.0.113.0/24"]`, req: []string{"10.1.2.3"}, match: no},
	{name: "IpAddress IPv6", op: "IpAddress", key: "aws:SourceIp", values: `"2001:DB8:1234:5678::/64"`, req: []string{"2001:db8:1234:5678::1"}, match: yes},
	{name: "IpAddress IPv6 out", op: "IpAddress", key: "aws:SourceIp", values: `"2001:DB8:1234:5678::/64"`, req: []string{"2001:db8:1234:5679::1"}, match: no},
	{name: "IpAddress single address", op: "IpAddress", key: "aws:SourceIp", values: `"203.0.113.5"`, req: []string{"203.0.113.5"}, match: yes},
	{name: "IpAddress v4-mapped request", op: "IpAddress", key: "aws:SourceIp", values: `"203.0.113.0/24"`, req: []string{"::ffff:203.0.113.5"}, match: yes},
	{name: "IpAddress missing", op: "IpAddress", key: "aws:SourceIp", values: `"203.0.113.0/24"`, match: no},
	{name: "NotIpAddress missing", op: "NotIpAddress", key: "aws:SourceIp", values: `"203.0.113.0/24"`, match: yes},
	{name: "IpAddressIfExists missing", op: "IpAddressIfExists", key: "aws:SourceIp", values: `"203.0.113.0/24"`, match: yes},
	{name: "IpAddress malformed request value", op: "IpAddress", key: "aws:SourceIp", values: `"203.0.113.0/24"`, req: []string{"garbage"}, match: unknown},

	// ARN operators: per-component wildcards; ArnEquals and ArnLike alike.
	{name: "ArnEquals", op: "ArnEquals", key: "iam:PolicyARN", values: `"arn:aws:iam::000000000000:policy/Admin"`, req: []string{"arn:aws:iam::000000000000:policy/Admin"}, match: yes, action: "iam:AttachUserPolicy"},
	{name: "ArnLike wildcard", op: "ArnLike", key: "iam:PolicyARN", values: `"arn:aws:iam::*:policy/Admin*"`, req: []string{"arn:aws:iam::000000000000:policy/AdminAccess"}, match: yes, action: "iam:AttachUserPolicy"},
	{name: "ArnLike no match", op: "ArnLike", key: "iam:PolicyARN", values: `"arn:aws:iam::*:policy/Admin*"`, req: []string{"arn:aws:iam::000000000000:policy/ReadOnly"}, match: no, action: "iam:AttachUserPolicy"},
	{name: "ArnNotLike other", op: "ArnNotLike", key: "iam:PolicyARN", values: `"arn:aws:iam::*:policy/Admin*"`, req: []string{"arn:aws:iam::000000000000:policy/ReadOnly"}, match: yes, action: "iam:AttachUserPolicy"},
	{name: "ArnNotLike same", op: "ArnNotLike", key: "iam:PolicyARN", values: `"arn:aws:iam::*:policy/Admin*"`, req: []string{"arn:aws:iam::000000000000:policy/AdminAccess"}, match: no, action: "iam:AttachUserPolicy"},
	{name: "ArnNotEquals missing", op: "ArnNotEquals", key: "iam:PolicyARN", values: `"arn:aws:iam::*:policy/Admin*"`, match: yes, action: "iam:AttachUserPolicy"},
	{name: "ArnLike missing", op: "ArnLike", key: "iam:PolicyARN", values: `"arn:aws:iam::*:policy/*"`, match: no, action: "iam:AttachUserPolicy"},
	{name: "ArnLike account component", op: "ArnLike", key: "iam:PolicyARN", values: `"arn:aws:iam::111111111111:*"`, req: []string{"arn:aws:iam::000000000000:policy/A"}, match: no, action: "iam:AttachUserPolicy"},
	{name: "ArnEquals takes wildcards", op: "ArnEquals", key: "iam:PolicyARN", values: `"arn:aws:iam::*:policy/A"`, req: []string{"arn:aws:iam::000000000000:policy/A"}, match: yes, action: "iam:AttachUserPolicy"},
	{name: "ArnLikeIfExists missing", op: "ArnLikeIfExists", key: "iam:PolicyARN", values: `"arn:aws:iam::*:policy/x"`, match: yes, action: "iam:AttachUserPolicy"},
	{name: "ArnLike PrincipalArn", op: "ArnLike", key: "aws:PrincipalArn", values: `"arn:aws:iam::*:user/b*"`, match: yes},

	// Null tests presence.
	{name: "Null true, key missing", op: "Null", key: "aws:TokenIssueTime", values: `"true"`, match: yes},
	{name: "Null true, key present", op: "Null", key: "aws:TokenIssueTime", values: `"true"`, req: []string{"2026-01-01T00:00:00Z"}, match: no},
	{name: "Null false, key present", op: "Null", key: "aws:TokenIssueTime", values: `"false"`, req: []string{"2026-01-01T00:00:00Z"}, match: yes},
	{name: "Null false, key missing", op: "Null", key: "aws:TokenIssueTime", values: `"false"`, match: no},
	{name: "Null on a resource tag", op: "Null", key: "aws:ResourceTag/stage", values: `"true"`, match: yes},
	{name: "Null on a request tag", op: "Null", key: "aws:RequestTag/stage", values: `"false"`, req: []string{"prod"}, match: yes, action: "secretsmanager:TagResource"},

	// Multivalued keys with set operators.
	{name: "ForAllValues subset", op: "ForAllValues:StringEquals", key: "aws:TagKeys", values: `["team","stage"]`, req: []string{"team"}, match: yes, action: "secretsmanager:TagResource"},
	{name: "ForAllValues not subset", op: "ForAllValues:StringEquals", key: "aws:TagKeys", values: `["team","stage"]`, req: []string{"team", "owner"}, match: no, action: "secretsmanager:TagResource"},
	{name: "ForAllValues missing key is true", op: "ForAllValues:StringEquals", key: "aws:TagKeys", values: `["team"]`, match: yes, action: "secretsmanager:TagResource"},
	{name: "ForAllValues empty set is true", op: "ForAllValues:StringEquals", key: "aws:TagKeys", values: `["team"]`, req: []string{}, match: yes, action: "secretsmanager:TagResource"},
	{name: "ForAnyValue overlap", op: "ForAnyValue:StringEquals", key: "aws:TagKeys", values: `["team","stage"]`, req: []string{"owner", "stage"}, match: yes, action: "secretsmanager:TagResource"},
	{name: "ForAnyValue no overlap", op: "ForAnyValue:StringEquals", key: "aws:TagKeys", values: `["team","stage"]`, req: []string{"owner"}, match: no, action: "secretsmanager:TagResource"},
	{name: "ForAnyValue missing key is false", op: "ForAnyValue:StringEquals", key: "aws:TagKeys", values: `["team"]`, match: no, action: "secretsmanager:TagResource"},
	{name: "ForAllValues StringLike", op: "ForAllValues:StringLike", key: "aws:TagKeys", values: `["team-*"]`, req: []string{"team-a", "team-b"}, match: yes, action: "secretsmanager:TagResource"},
	{name: "ForAnyValue StringNotEquals", op: "ForAnyValue:StringNotEquals", key: "aws:TagKeys", values: `["team"]`, req: []string{"team", "stage"}, match: yes, action: "secretsmanager:TagResource"},
	{name: "ForAllValues StringNotEquals disjoint", op: "ForAllValues:StringNotEquals", key: "aws:TagKeys", values: `["team"]`, req: []string{"stage", "owner"}, match: yes, action: "secretsmanager:TagResource"},
	{name: "ForAllValues StringNotEquals overlap", op: "ForAllValues:StringNotEquals", key: "aws:TagKeys", values: `["team"]`, req: []string{"team", "owner"}, match: no, action: "secretsmanager:TagResource"},
	{name: "ForAnyValue IfExists missing", op: "ForAnyValue:StringLikeIfExists", key: "aws:TagKeys", values: `["x*"]`, match: yes, action: "secretsmanager:TagResource"},
	{name: "ForAllValues IgnoreCase", op: "ForAllValues:StringEqualsIgnoreCase", key: "aws:TagKeys", values: `["TEAM"]`, req: []string{"team", "Team"}, match: yes, action: "secretsmanager:TagResource"},
	{name: "ForAnyValue NumericLessThan", op: "ForAnyValue:NumericLessThan", key: "aws:TagKeys", values: `"5"`, req: []string{"3", "10"}, match: yes, action: "secretsmanager:TagResource"},
	{name: "ForAllValues NumericLessThan", op: "ForAllValues:NumericLessThan", key: "aws:TagKeys", values: `"5"`, req: []string{"3", "10"}, match: no, action: "secretsmanager:TagResource"},

	// Key names and kinds.
	{name: "key names are case-insensitive", op: "StringEquals", key: "AWS:ResourceTAG/stage", values: `"prod"`, req: []string{"prod"}, match: yes},
	{name: "typo key missing fails closed", op: "StringEquals", key: "aws:SourceIpp", values: `"x"`, match: unknown},
	{name: "typo key NotEquals fails closed", op: "StringNotEquals", key: "aws:SourceIpp", values: `"x"`, match: unknown},
	{name: "typo key present evaluates", op: "StringEquals", key: "aws:SourceIpp", values: `"x"`, req: []string{"x"}, match: yes},
	{name: "unsupported key fails closed", op: "StringEquals", key: "secretsmanager:KmsKeyArn", values: `"arn:aws:kms:*"`, match: unknown, action: "secretsmanager:CreateSecret"},
	{name: "unsupported key IfExists fails closed", op: "StringEqualsIfExists", key: "secretsmanager:KmsKeyArn", values: `"x"`, match: unknown, action: "secretsmanager:CreateSecret"},
	{name: "unsupported key given (simulation)", op: "StringEquals", key: "secretsmanager:KmsKeyArn", values: `"k"`, req: []string{"k"}, match: yes, action: "secretsmanager:CreateSecret"},
	{name: "another action's key is missing", op: "StringEquals", key: "secretsmanager:Name", values: `"x"`, match: no, action: "rds-data:ExecuteStatement"},
	{name: "another action's key NotEquals", op: "StringNotEquals", key: "secretsmanager:Name", values: `"x"`, match: yes, action: "rds-data:ExecuteStatement"},
	{name: "absent key (no VPC endpoints)", op: "StringEquals", key: "aws:SourceVpce", values: `"vpce-1"`, match: no},
	{name: "absent key NotEquals", op: "StringNotEquals", key: "aws:SourceVpce", values: `"vpce-1"`, match: yes},
	{name: "supplied key not in this request", op: "StringEquals", key: "secretsmanager:VersionId", values: `"v"`, match: no},
	{name: "principal keys derived", op: "StringEquals", key: "aws:username", values: `"bob"`, match: yes},
	{name: "aws:username absent for roles", op: "StringEquals", key: "aws:username", values: `"bob"`, match: no,
		p: &Principal{ARN: "arn:aws:sts::000000000000:assumed-role/app/s", RoleARN: "arn:aws:iam::000000000000:role/app", UserID: "AROA:s"}},
	{name: "PrincipalType of a user", op: "StringEquals", key: "aws:PrincipalType", values: `"User"`, match: yes},
	{name: "PrincipalTag from principal", op: "StringEquals", key: "aws:PrincipalTag/team", values: `"data"`, match: yes, p: alice},
	{name: "PrincipalTag key is case-insensitive", op: "StringEquals", key: "aws:PrincipalTag/TEAM", values: `"data"`, match: yes, p: alice},
	{name: "PrincipalTag value is case-sensitive", op: "StringEquals", key: "aws:PrincipalTag/team", values: `"Data"`, match: no, p: alice},
}

func (r condRow) request() *Request {
	action := r.action
	if action == "" {
		action = "secretsmanager:GetSecretValue"
	}
	p := r.p
	if p == nil {
		p = bob
	}
	ctx := map[string][]string{}
	for k, v := range r.extra {
		ctx[k] = v
	}
	if r.req != nil {
		ctx[lowerASCII(r.key)] = r.req
	}
	return &Request{Action: action, Resource: "arn:aws:secretsmanager:us-east-1:000000000000:secret:prod-db-AbCdEf", Principal: p, Context: ctx}
}

func (r condRow) statement(effect string) string {
	return fmt.Sprintf(`{"Effect":%q,"Action":"*","Resource":"*","Condition":{%q:{%q:%s}}}`, effect, r.op, r.key, r.values)
}

func (r condRow) doc(statements ...string) string {
	v := r.version
	if v == "" {
		v = Version2012
	}
	out := `{"Version":"` + v + `","Statement":[`
	for i, s := range statements {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out + "]}"
}

// TestEvaluationSuite runs every condition row twice: as the condition of
// an Allow (match → Allow; no match or indeterminate → implicit deny) and
// of a Deny beside an Allow of everything (match or indeterminate →
// explicit Deny; no match → Allow).
func TestEvaluationSuite(t *testing.T) {
	n := 0
	for _, r := range condRows {
		allow := mustParse(t, r.doc(r.statement("Allow")))
		want := DecisionImplicitDeny
		if r.match == yes {
			want = DecisionAllow
		}
		if got := Evaluate([]*Policy{allow}, r.request()).Decision; got != want {
			t.Errorf("Allow if %s: got %v, want %v", r.name, got, want)
		}
		deny := mustParse(t, r.doc(`{"Effect":"Allow","Action":"*","Resource":"*"}`, r.statement("Deny")))
		want = DecisionExplicitDeny
		if r.match == no {
			want = DecisionAllow
		}
		if got := Evaluate([]*Policy{deny}, r.request()).Decision; got != want {
			t.Errorf("Deny if %s: got %v, want %v", r.name, got, want)
		}
		n += 2
	}
	n += evaluationLogicCases(t)
	if n < 150 {
		t.Fatalf("only %d cases", n)
	}
	t.Logf("%d cases", n)
}

// logicCase is a whole request against whole policies.
type logicCase struct {
	name     string
	policies []string
	action   string
	resource string
	p        *Principal
	want     Decision
}

const anyDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

var logicCases = []logicCase{
	{"no policy: implicit deny", nil, "secretsmanager:GetSecretValue", "*", bob, DecisionImplicitDeny},
	{"allow exact action", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}}`}, "secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:000000000000:secret:a", bob, DecisionAllow},
	{"actions are case-insensitive", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"SecretsManager:getsecretvalue","Resource":"*"}}`}, "secretsmanager:GetSecretValue", "*", bob, DecisionAllow},
	{"action wildcard", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"secretsmanager:Get*","Resource":"*"}}`}, "secretsmanager:GetSecretValue", "*", bob, DecisionAllow},
	{"action wildcard other", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"secretsmanager:Get*","Resource":"*"}}`}, "secretsmanager:DeleteSecret", "*", bob, DecisionImplicitDeny},
	{"NotAction allows the rest", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`}, "rds-data:ExecuteStatement", "*", bob, DecisionAllow},
	{"NotAction excludes", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`}, "iam:CreateUser", "*", bob, DecisionImplicitDeny},
	{"resources are case-sensitive", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:rds:us-east-1:000000000000:cluster:Prod"}}`}, "rds-data:ExecuteStatement", "arn:aws:rds:us-east-1:000000000000:cluster:prod", bob, DecisionImplicitDeny},
	{"resource wildcard", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:rds:*:*:cluster:p*"}}`}, "rds-data:ExecuteStatement", "arn:aws:rds:us-east-1:000000000000:cluster:prod", bob, DecisionAllow},
	{"NotResource", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","NotResource":"arn:aws:rds:*:*:cluster:prod"}}`}, "rds-data:ExecuteStatement", "arn:aws:rds:us-east-1:000000000000:cluster:dev", bob, DecisionAllow},
	{"NotResource excludes", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","NotResource":"arn:aws:rds:*:*:cluster:prod"}}`}, "rds-data:ExecuteStatement", "arn:aws:rds:us-east-1:000000000000:cluster:prod", bob, DecisionImplicitDeny},
	{"explicit deny in another policy wins", []string{anyDoc, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"secretsmanager:DeleteSecret","Resource":"*"}}`}, "secretsmanager:DeleteSecret", "*", bob, DecisionExplicitDeny},
	{"deny listed first still wins over later allow", []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"},{"Effect":"Allow","Action":"*","Resource":"*"}]}`}, "rds-data:ExecuteStatement", "*", bob, DecisionExplicitDeny},
	{"deny for another action", []string{anyDoc, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"secretsmanager:DeleteSecret","Resource":"*"}}`}, "secretsmanager:GetSecretValue", "*", bob, DecisionAllow},
	{"Deny NotAction denies everything else", []string{anyDoc, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":"rds-data:*","Resource":"*"}}`}, "iam:CreateUser", "*", bob, DecisionExplicitDeny},
	{"Deny NotAction spares the listed", []string{anyDoc, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":"rds-data:*","Resource":"*"}}`}, "rds-data:ExecuteStatement", "*", bob, DecisionAllow},
	{"Deny NotResource", []string{anyDoc, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","NotResource":"arn:aws:rds:*:*:cluster:dev"}}`}, "rds-data:ExecuteStatement", "arn:aws:rds:us-east-1:000000000000:cluster:prod", bob, DecisionExplicitDeny},
	{"allow in the second policy", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*","Resource":"*"}}`, anyDoc}, "rds-data:ExecuteStatement", "*", bob, DecisionAllow},
	{"resource with ${aws:username}", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*","Resource":"arn:aws:iam::*:user/${aws:username}"}}`}, "iam:CreateAccessKey", "arn:aws:iam::000000000000:user/bob", bob, DecisionAllow},
	{"resource with ${aws:username}, other user", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*","Resource":"arn:aws:iam::*:user/${aws:username}"}}`}, "iam:CreateAccessKey", "arn:aws:iam::000000000000:user/alice", bob, DecisionImplicitDeny},
	{"2008 resource variable is literal", []string{`{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"iam:*","Resource":"arn:aws:iam::*:user/${aws:username}"}}`}, "iam:CreateAccessKey", "arn:aws:iam::000000000000:user/bob", bob, DecisionImplicitDeny},
	{"unresolvable resource variable denies in a Deny", []string{anyDoc, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"arn:aws:iam::*:user/${aws:PrincipalTag/x}"}}`}, "iam:CreateAccessKey", "arn:aws:iam::000000000000:user/bob", bob, DecisionExplicitDeny},
	{"no principal: the identity policy still decides", []string{anyDoc}, "rds-data:ExecuteStatement", "*", nil, DecisionAllow},
	{"wildcard request action is no action", []string{anyDoc}, "rds-data:*", "*", bob, DecisionImplicitDeny},
}

func evaluationLogicCases(t *testing.T) int {
	for _, c := range logicCases {
		var ps []*Policy
		for _, d := range c.policies {
			ps = append(ps, mustParse(t, d))
		}
		if got := Evaluate(ps, &Request{Action: c.action, Resource: c.resource, Principal: c.p}).Decision; got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
	return len(logicCases)
}
