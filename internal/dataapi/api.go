// Package dataapi implements the Aurora Data API (rds-data, restJson1) on
// top of sqlgate's engines: ExecuteStatement, BatchExecuteStatement,
// Begin/Commit/RollbackTransaction and the deprecated ExecuteSql.
//
// The wire contract is docs/dataapi.md; every response is shaped
// so that the aws CLI, boto3 and the JS and Go SDKs parse it unchanged.
package dataapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sqlgate/sqlgate/internal/arn"
	"github.com/sqlgate/sqlgate/internal/awserr"
	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/exec"
	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/txn"
)

// Cluster is what the Data API needs to know about one cluster.
type Cluster struct {
	Name string
	ARN  string
	// Enabled is the Data API switch (data_api, EnableHttpEndpoint); the
	// server flips it while requests run.
	Enabled atomic.Bool
	// Exec runs the SQL: pool, dialect, default database, statement and
	// borrow timeouts, response size limit.
	Exec   *exec.Cluster
	Limits Limits
}

// Limits are the per-cluster Data API limits beyond Exec's.
type Limits struct {
	MaxSQLChars   int
	TxIdleTimeout time.Duration
	TxMaxLifetime time.Duration
}

// SecretSource resolves a secret id (name, ARN or partial ARN) to its ARN
// and current SecretString, if the caller in ctx may
// secretsmanager:GetSecretValue it (else an *iam.AccessDeniedError, also
// for a missing secret the caller could not read). It returns
// ErrSecretNotFound for unknown ids.
type SecretSource interface {
	SecretString(ctx context.Context, id string) (arn, value string, err error)
}

// ErrSecretNotFound is returned by a SecretSource for an unknown secret.
var ErrSecretNotFound = errors.New("secret not found")

// Observer receives one call per finished request for metrics.
type Observer interface {
	ObserveDataAPI(cluster, action, outcome string, d time.Duration)
}

// API serves the Data API.
type API struct {
	clusters map[string]*Cluster
	region   string
	account  string
	secrets  SecretSource
	authz    iam.Authorizer
	txns     *txn.Manager
	log      *slog.Logger
	obs      Observer
	parsed   exec.SecretCache // credentials parsed from secret values
}

// Config wires an API.
type Config struct {
	Region, Account string
	Clusters        []*Cluster
	Secrets         SecretSource
	Authorizer      iam.Authorizer
	Txns            *txn.Manager
	Log             *slog.Logger
	Observer        Observer
}

// New returns an API.
func New(c Config) *API {
	a := &API{clusters: map[string]*Cluster{}, region: c.Region, account: c.Account,
		secrets: c.Secrets, authz: c.Authorizer, txns: c.Txns, log: c.Log, obs: c.Observer}
	if a.log == nil {
		a.log = slog.Default()
	}
	for _, cl := range c.Clusters {
		a.clusters[cl.Name] = cl
	}
	return a
}

// Actions maps request paths to action names (IAM action suffixes).
var Actions = map[string]string{
	"/Execute":             "ExecuteStatement",
	"/BatchExecute":        "BatchExecuteStatement",
	"/BeginTransaction":    "BeginTransaction",
	"/CommitTransaction":   "CommitTransaction",
	"/RollbackTransaction": "RollbackTransaction",
	"/ExecuteSql":          "ExecuteSql",
}

// Action returns the action for a request path (case-insensitive, as old
// SDKs used lower-case paths), or "".
func Action(path string) string {
	if a, ok := Actions[path]; ok {
		return a
	}
	for p, a := range Actions {
		if strings.EqualFold(p, path) {
			return a
		}
	}
	return ""
}

// Handle serves one verified request whose body has been read. It returns
// the outcome ("OK" or the exception name) and cluster for the access log.
func (a *API) Handle(w http.ResponseWriter, r *http.Request, body []byte, requestID string) (cluster, outcome string) {
	ctx := r.Context()
	action := Action(r.URL.Path)
	return a.serve(w, action, requestID, func() (string, []byte, error) {
		switch action {
		case "ExecuteStatement":
			return a.execute(ctx, body)
		case "BatchExecuteStatement":
			return a.batch(ctx, body)
		case "BeginTransaction":
			return a.begin(ctx, body)
		case "CommitTransaction":
			return a.end(ctx, body, true)
		case "RollbackTransaction":
			return a.end(ctx, body, false)
		case "ExecuteSql":
			return a.executeSQL(ctx, body)
		}
		return "", nil, awserr.New("UnknownOperationException", http.StatusNotFound, "Unknown operation "+r.URL.Path)
	})
}

// serve runs one action and writes its response or error.
func (a *API) serve(w http.ResponseWriter, action, requestID string, fn func() (string, []byte, error)) (cluster, outcome string) {
	start := time.Now()
	cluster, resp, err := fn()
	outcome = "OK"
	if err != nil {
		e := awserr.Write(w, requestID, err)
		outcome = e.Code
		if e.Status >= 500 {
			a.log.Warn("data api request failed", "action", action, "cluster", cluster, "code", e.Code, "err", e.Err)
		}
	} else {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("X-Amzn-RequestId", requestID)
		_, _ = w.Write(resp)
		putBuf(resp) // the writer has copied it
	}
	if a.obs != nil {
		a.obs.ObserveDataAPI(cluster, action, outcome, time.Since(start))
	}
	return cluster, outcome
}

// target is a resolved cluster + login for one call.
type target struct {
	cl        *Cluster
	secretARN string
	creds     engine.Credentials
}

// resolve checks the cluster, permissions and secret of a call.
func (a *API) resolve(ctx context.Context, action, resourceARN, secretID, database string) (*target, error) {
	if resourceARN == "" {
		return nil, notNull("resourceArn")
	}
	if secretID == "" {
		return nil, notNull("secretArn")
	}
	cl, err := a.cluster(resourceARN)
	if err != nil {
		return nil, err
	}
	if err := a.authz.Authorize(ctx, "rds-data:"+action, cl.ARN); err != nil {
		return nil, mapError(err, 0)
	}
	if !cl.Enabled.Load() {
		return nil, badRequest("HttpEndpoint is not enabled for cluster " + cl.Name + ". Please refer to https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.html#data-api.troubleshooting")
	}
	// The source authorizes secretsmanager:GetSecretValue for the caller
	// in ctx (with the secret's request context) before it reads the value.
	secretARN, value, err := a.secrets.SecretString(ctx, secretID)
	if err != nil {
		var denied *iam.AccessDeniedError
		if errors.As(err, &denied) {
			return nil, mapError(err, 0)
		}
		return nil, secretErr(secretID, err)
	}
	sec, err := a.parsed.Parse(secretARN, value)
	if err != nil {
		return nil, invalidSecret("The secret must be a JSON object with username and password fields.")
	}
	return &target{cl: cl, secretARN: secretARN, creds: sec.CredentialsOf(secretARN, database)}, nil
}

func secretErr(id string, err error) error {
	if errors.Is(err, ErrSecretNotFound) {
		return secretsError("Error fetching secret "+id+" : Secrets Manager can't find the specified secret. (Service: AWSSecretsManager; Status Code: 400; Error Code: ResourceNotFoundException)", err)
	}
	var ae *awserr.Error
	if errors.As(err, &ae) {
		return secretsError("Error fetching secret "+id+" : "+ae.Msg, err)
	}
	return secretsError("Error fetching secret "+id, err)
}

// cluster resolves a cluster ARN of this partition, region and account;
// any other names no cluster of ours (authorization then checks cl.ARN,
// so it must be the ARN the caller sent).
func (a *API) cluster(resourceARN string) (*Cluster, error) {
	parsed, name, err := arn.ClusterName(resourceARN)
	if err != nil {
		return nil, badRequest("Invalid resource ARN: " + resourceARN)
	}
	cl, ok := a.clusters[name]
	if !ok || parsed.Partition != "aws" || parsed.Region != a.region || parsed.Account != a.account {
		return nil, notFound("DB cluster " + resourceARN + " not found. The resourceArn value can't be found.")
	}
	return cl, nil
}

// open borrows a session for a non-transactional call, within the
// caller's share of the cluster (exec.Cluster.Shares).
func (a *API) open(ctx context.Context, t *target) (*exec.Session, error) {
	return t.cl.Exec.OpenAs(ctx, principalOf(ctx, t.cl.Exec), t.creds)
}

// principalOf is who a call counts against in the cluster's per-principal
// limits: the caller's IAM principal ARN ("" when the cluster has none).
func principalOf(ctx context.Context, cl *exec.Cluster) string {
	if cl.Shares == nil {
		return ""
	}
	if p := iam.PrincipalFrom(ctx); p != nil {
		return p.ARN
	}
	return ""
}

// acquireTx fetches an open transaction for this cluster.
func (a *API) acquireTx(id string, t *target) (*txn.Tx, error) {
	tx, err := a.txns.Acquire(id)
	if err != nil {
		return nil, err
	}
	if tx.Cluster != t.cl.Name || tx.SecretARN != t.secretARN {
		a.txns.Release(tx)
		return nil, &txn.NotFoundError{ID: id}
	}
	return tx, nil
}
