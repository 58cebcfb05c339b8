package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sqlgate/sqlgate/internal/arn"
	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/identity"
)

// ConnectOptions are the inputs of `sqlgate connect`.
type ConnectOptions struct {
	Cluster  string
	Function string
	Secret   string // secret the function logs in with; default: see Connect
	ReadOnly bool
	Endpoint string // AWS_ENDPOINT_URL to print; default from the config
	// AccessKey selects the older, weaker mode: an IAM user with a
	// long-lived access key instead of a workload with a role.
	AccessKey bool
	// Type is the workload type (lambda, the default, ec2, ecs, eks).
	Type string
}

// dataActions are the actions the seed documents grant a function.
var dataActions = []string{
	"rds-data:ExecuteStatement", "rds-data:BatchExecuteStatement", "rds-data:BeginTransaction",
	"rds-data:CommitTransaction", "rds-data:RollbackTransaction",
}

// Connect is the self-hosted "connect a Lambda function to a database"
// wizard. By default it creates (idempotently) a role for the function,
// trusted only by the workload type's service principal, with a
// least-privilege inline policy allowing exactly the Data API actions on
// the cluster and GetSecretValue on its secret, and a workload bound to
// it (a new bootstrap token each run); then prints the environment and
// first-query snippets. With o.AccessKey it creates a user with an access
// key and the same policy instead (connect_key.go).
func (a *Admin) Connect(ctx context.Context, o ConnectOptions) error {
	if o.AccessKey {
		return a.connectKeyMode(ctx, o)
	}
	return a.connectWorkload(ctx, o)
}

// connectPlan resolves what both modes of Connect start from: the
// cluster, the secret (a read-only one when asked), and the plan of the
// IAM entities to create (keys: an access key; else a workload of type
// workloadType).
func (a *Admin) connectPlan(ctx context.Context, o ConnectOptions, keys bool, workloadType string) (p *ConnectPlan, clusterARN, secretARN string, err error) {
	cl, err := a.cluster(o.Cluster)
	if err != nil {
		return nil, "", "", err
	}
	secretARN, err = a.connectSecret(ctx, cl, o.Secret)
	if err != nil {
		return nil, "", "", err
	}
	if o.ReadOnly {
		if secretARN, err = a.readOnlySecret(ctx, cl, secretARN, o.Function); err != nil {
			return nil, "", "", err
		}
	}
	clusterARN = arn.Cluster(a.cfg.Region, a.cfg.AccountID, cl.Name)
	p, err = PlanConnect(o.Function, cl.Name, clusterARN, secretARN, o.ReadOnly, keys, workloadType)
	return p, clusterARN, secretARN, err
}

// connectKeyMode is the access-key mode of Connect.
func (a *Admin) connectKeyMode(ctx context.Context, o ConnectOptions) error {
	p, clusterARN, secretARN, err := a.connectPlan(ctx, o, true, "")
	if err != nil {
		return err
	}
	user := p.UserName
	if _, err := a.ids.CreateUser(ctx, user, p.Path); err != nil && !errors.Is(err, identity.ErrExists) {
		return err
	}
	if err := a.ids.PutUserPolicy(ctx, user, p.PolicyName, p.PolicyDocument); err != nil {
		return err
	}
	creds, err := a.connectKey(ctx, user)
	if err != nil {
		return err
	}
	a.printConnect(o, user, clusterARN, secretARN, creds)
	return nil
}

func (a *Admin) cluster(name string) (*config.Cluster, error) {
	for i := range a.cfg.Clusters {
		if a.cfg.Clusters[i].Name == name {
			return &a.cfg.Clusters[i], nil
		}
	}
	return nil, fmt.Errorf("unknown cluster %q (see sqlgate clusters list)", name)
}

// connectSecret resolves the secret: --secret, else a secret named after
// the cluster ("default" for the default cluster).
func (a *Admin) connectSecret(ctx context.Context, cl *config.Cluster, id string) (string, error) {
	if id == "" {
		id = cl.Name
	}
	s, err := a.secrets.Describe(ctx, id)
	if err != nil {
		return "", fmt.Errorf("secret %q for cluster %s: %w (create it with sqlgate secrets create, or pass --secret)", id, cl.Name, err)
	}
	return s.ARN, nil
}

// connectKey returns a new key, or nil when the user already has one (its
// secret was shown when it was created).
func (a *Admin) connectKey(ctx context.Context, user string) (*identity.Credentials, error) {
	keys, err := a.ids.ListAccessKeys(ctx, user)
	if err != nil {
		return nil, err
	}
	if len(keys) > 0 {
		return &identity.Credentials{AccessKeyID: keys[0].AccessKeyID}, nil
	}
	_, creds, err := a.ids.CreateAccessKey(ctx, user)
	return &creds, err
}

// ConnectUserPath is the IAM path of the users Connect creates.
const ConnectUserPath = "/sqlgate/functions/"

// ConnectUser names the IAM user Connect creates for a function (the web
// console's Connect wizard creates the same).
func ConnectUser(function string) string { return "fn-" + function }

// ConnectPolicyName names the inline policy Connect puts for a cluster.
func ConnectPolicyName(cluster string) string { return "sqlgate-connect-" + cluster }

// ConnectPolicy is the least-privilege policy: read-only functions get no
// transactions and no batch writes.
func ConnectPolicy(clusterARN, secretARN string, readOnly bool) string {
	actions := dataActions
	if readOnly {
		actions = []string{"rds-data:ExecuteStatement"}
	}
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{
			{"Sid": "DataAPI", "Effect": "Allow", "Action": actions, "Resource": clusterARN},
			{"Sid": "Secret", "Effect": "Allow", "Action": []string{"secretsmanager:GetSecretValue"}, "Resource": secretARN},
		},
	}
	b, _ := json.MarshalIndent(doc, "", "  ")
	return string(b)
}

func (a *Admin) endpoint(o ConnectOptions) string {
	if o.Endpoint != "" {
		return o.Endpoint
	}
	return endpointOf(a.cfg)
}

// endpointOf is the AWS_ENDPOINT_URL of the configured listeners.
func endpointOf(cfg *config.Config) string {
	if cfg.Listen.HTTPS != "" {
		return "https://" + strings.Replace(cfg.Listen.HTTPS, "0.0.0.0", "127.0.0.1", 1)
	}
	return "http://" + cfg.Listen.HTTP
}

func (a *Admin) printConnect(o ConnectOptions, user, clusterARN, secretARN string, creds *identity.Credentials) {
	secret := creds.SecretAccessKey
	if secret == "" {
		secret = "<shown when the key was created; sqlgate keys create " + user + " makes a new one>"
	}
	ep := a.endpoint(o)
	fmt.Fprintf(a.out, `# function %q can now use cluster %q (user %s, policy sqlgate-connect-%s)
export AWS_ENDPOINT_URL=%s
export AWS_REGION=%s AWS_DEFAULT_REGION=%s
export AWS_ACCESS_KEY_ID=%s
export AWS_SECRET_ACCESS_KEY=%s
export CLUSTER_ARN=%s
export SECRET_ARN=%s
`, o.Function, o.Cluster, user, o.Cluster, ep, a.cfg.Region, a.cfg.Region, creds.AccessKeyID, secret, clusterARN, secretARN)
	fmt.Fprint(a.out, snippets)
}

const snippets = `
# Python (boto3)
import boto3, os
rds = boto3.client("rds-data")   # AWS_ENDPOINT_URL is read from the environment
print(rds.execute_statement(resourceArn=os.environ["CLUSTER_ARN"],
      secretArn=os.environ["SECRET_ARN"], sql="SELECT 1")["records"])

// Node.js (AWS SDK v3)
import { RDSDataClient, ExecuteStatementCommand } from "@aws-sdk/client-rds-data";
const rds = new RDSDataClient({});
const out = await rds.send(new ExecuteStatementCommand({
  resourceArn: process.env.CLUSTER_ARN, secretArn: process.env.SECRET_ARN, sql: "SELECT 1" }));
console.log(out.records);

// Go (aws-sdk-go-v2)
cfg, _ := config.LoadDefaultConfig(ctx)
rds := rdsdata.NewFromConfig(cfg)
out, err := rds.ExecuteStatement(ctx, &rdsdata.ExecuteStatementInput{
	ResourceArn: aws.String(os.Getenv("CLUSTER_ARN")), SecretArn: aws.String(os.Getenv("SECRET_ARN")),
	Sql: aws.String("SELECT 1")})
`
