package identity

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"
	"time"
)

// AWSManagedPrefix starts the ARN of every AWS-managed policy.
const AWSManagedPrefix = "arn:aws:iam::aws:policy/"

// awsManagedDocs are AWS-managed policies for the services sqlgate
// implements, by name: AWS's published documents with the statements and
// actions of other services left out. They can be attached like any
// policy and cannot be changed or deleted.
var awsManagedDocs = map[string]struct{ desc, doc string }{
	// As on AWS, it reaches only secrets named rds-db-credentials/*
	// (besides creating and listing secrets).
	"AmazonRDSDataFullAccess": {"Allows full access to use the RDS data APIs, secret store APIs for RDS database credentials, and DB console query management APIs to execute SQL statements on Aurora Serverless clusters in the AWS account.", `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "SecretsManagerDbCredentialsAccess", "Effect": "Allow",
     "Action": ["secretsmanager:GetSecretValue", "secretsmanager:PutResourcePolicy", "secretsmanager:PutSecretValue",
                "secretsmanager:DeleteSecret", "secretsmanager:DescribeSecret", "secretsmanager:TagResource"],
     "Resource": "arn:aws:secretsmanager:*:*:secret:rds-db-credentials/*"},
    {"Sid": "RDSDataServiceAccess", "Effect": "Allow",
     "Action": ["secretsmanager:CreateSecret", "secretsmanager:ListSecrets", "secretsmanager:GetRandomPassword",
                "rds-data:BatchExecuteStatement", "rds-data:BeginTransaction", "rds-data:CommitTransaction",
                "rds-data:ExecuteStatement", "rds-data:RollbackTransaction"],
     "Resource": "*"}
  ]
}`},
	"SecretsManagerReadWrite": {"Provides read/write access to AWS Secrets Manager via the AWS Management Console.", `{
  "Version": "2012-10-17",
  "Statement": [{"Sid": "BasePermissions", "Effect": "Allow", "Action": ["secretsmanager:*"], "Resource": "*"}]
}`},
	"IAMReadOnlyAccess": {"Provides read only access to IAM via the AWS Management Console.", `{
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Action": ["iam:GenerateCredentialReport", "iam:GenerateServiceLastAccessedDetails",
    "iam:Get*", "iam:List*", "iam:SimulateCustomPolicy", "iam:SimulatePrincipalPolicy"], "Resource": "*"}]
}`},
	"IAMFullAccess": {"Provides full access to IAM via the AWS Management Console.", `{
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Action": ["iam:*"], "Resource": "*"}]
}`},
	"ReadOnlyAccess": {"Provides read-only access to AWS services and resources.", `{
  "Version": "2012-10-17",
  "Statement": [{"Sid": "ReadOnlyActions", "Effect": "Allow",
    "Action": ["iam:Generate*", "iam:Get*", "iam:List*", "iam:Simulate*",
               "secretsmanager:Describe*", "secretsmanager:GetResourcePolicy", "secretsmanager:List*"],
    "Resource": "*"}]
}`},
}

// awsManagedDate is the CreateDate/UpdateDate shown for AWS-managed
// policies.
var awsManagedDate = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// awsManaged returns the AWS-managed policy with the given ARN.
func awsManaged(arn string) (*ManagedPolicy, bool) {
	name, ok := strings.CutPrefix(arn, AWSManagedPrefix)
	if !ok {
		return nil, false
	}
	m, ok := awsManagedDocs[name]
	if !ok {
		return nil, false
	}
	sum := sha256.Sum256([]byte(arn))
	id := "ANPA" + base32.StdEncoding.EncodeToString(sum[:])[:17]
	return &ManagedPolicy{PolicyName: name, PolicyID: id, ARN: arn, Path: "/", Description: m.desc, DefaultVersionID: "v1",
		CreateDate: awsManagedDate, UpdateDate: awsManagedDate,
		Versions: []PolicyVersion{{VersionID: "v1", Document: m.doc, IsDefault: true, CreateDate: awsManagedDate}}}, true
}

// AWSManagedPolicies returns every AWS-managed policy sqlgate provides.
func AWSManagedPolicies() []*ManagedPolicy {
	var out []*ManagedPolicy
	for name := range awsManagedDocs {
		p, _ := awsManaged(AWSManagedPrefix + name)
		out = append(out, p)
	}
	return out
}

// AWSManagedPolicy returns the AWS-managed policy with the given ARN
// (attachment count 0), if sqlgate provides it.
func AWSManagedPolicy(arn string) (*ManagedPolicy, bool) { return awsManaged(arn) }
