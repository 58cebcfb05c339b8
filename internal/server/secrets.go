package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sqlgate/sqlgate/internal/barrier"
	"github.com/sqlgate/sqlgate/internal/dataapi"
	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/identity"
	"github.com/sqlgate/sqlgate/internal/secrets"
	"github.com/sqlgate/sqlgate/internal/secretsapi"
)

// secretStore adapts secrets.Store to what the Data API needs.
type secretStore struct {
	*secrets.Store
	grace time.Duration // rotation grace window for the proxies
}

var _ dataapi.SecretSource = secretStore{}

// SecretARN resolves a secret name, ARN or partial ARN to its ARN.
func (s secretStore) SecretARN(ctx context.Context, id string) (string, error) {
	d, err := s.Describe(ctx, id)
	if err != nil {
		return "", mapSecretErr(err)
	}
	return d.ARN, nil
}

// SecretString returns the SecretString to log in with: AWSCURRENT, or
// AWSPENDING once a rotation has set it on the database.
func (s secretStore) SecretString(ctx context.Context, id string) (string, string, error) {
	v, err := s.LiveValue(ctx, id)
	if err != nil {
		return "", "", mapSecretErr(err)
	}
	if v.SecretString == nil {
		return v.ARN, "", nil
	}
	return v.ARN, *v.SecretString, nil
}

func mapSecretErr(err error) error {
	if errors.Is(err, secrets.ErrNotFound) {
		return errors.Join(dataapi.ErrSecretNotFound, err)
	}
	return err
}

func (s *Server) openSecrets() error {
	b, err := barrier.LoadOrCreateKey(s.cfg.DataDir)
	if err != nil {
		return fmt.Errorf("load master key: %w", err)
	}
	s.sealer = b
	s.secrets = &secretStore{Store: secrets.New(s.store, b, secrets.Options{Region: s.cfg.Region, Account: s.cfg.AccountID}), grace: s.cfg.Rotation.GraceWindow}
	s.ids = identity.New(s.store, b, s.cfg.AccountID)
	return nil
}

// ensureDefaultSecret creates the secret "default" for the embedded SQLite
// cluster "default" at first start, so a new user can query at once.
func (s *Server) ensureDefaultSecret(ctx context.Context) error {
	if !s.cfg.HasDefaultSQLite() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	arn, err := s.secrets.EnsureDefault(ctx)
	if err != nil {
		return fmt.Errorf("create default secret: %w", err)
	}
	s.defaultSecretARN = arn
	return nil
}

func (s *Server) newSecretsAPI(authz iam.Authorizer) *secretsapi.API {
	api := secretsapi.New(s.secrets.Store, authz, s.log)
	if s.rotator != nil {
		api.SetRotator(s.rotator)
	}
	return api
}

// dataSecrets is the Data API's secret source: the caller's
// GetSecretValue, authorized by the Secrets Manager API with the same
// request context as a direct call, made on the caller's behalf
// (aws:ViaAWSService), before the value is read.
func (s *Server) dataSecrets(authz iam.Authorizer) dataapi.SecretSource {
	return dataSecrets{secretsapi.New(s.secrets.Store, authz, s.log)}
}

type dataSecrets struct{ api *secretsapi.API }

func (d dataSecrets) SecretString(ctx context.Context, id string) (string, string, error) {
	ri := iam.RequestInfoFrom(ctx)
	ri.ViaService = true
	arn, v, err := d.api.CurrentValue(iam.WithRequestInfo(ctx, ri), id)
	if err != nil {
		return "", "", mapSecretErr(err)
	}
	if v == nil {
		return arn, "", nil
	}
	return arn, *v, nil
}
