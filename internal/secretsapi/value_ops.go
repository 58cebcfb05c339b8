package secretsapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/sqlgate/sqlgate/internal/awserr"
	"github.com/sqlgate/sqlgate/internal/secrets"
)

// payload turns the request's SecretString/SecretBinary into a Payload; nil
// when neither is set.
func payload(s *string, b []byte) (*secrets.Payload, error) {
	switch {
	case s != nil && b != nil:
		return nil, errInvalidParameter(msgBothValues)
	case s != nil:
		return &secrets.Payload{SecretString: s}, nil
	case b != nil:
		return &secrets.Payload{SecretBinary: b}, nil
	}
	return nil, nil
}

func (a *API) createSecret(ctx context.Context, body []byte) (any, error) {
	var in createSecretInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v validation
	v.required("name", in.Name != nil)
	v.length("name", in.Name, 1, 512)
	v.token(in.ClientRequestToken)
	v.length("description", in.Description, 0, 2048)
	v.length("kmsKeyId", in.KmsKeyID, 0, 2048)
	v.value(in.SecretString, in.SecretBinary)
	v.tags("tags", in.Tags)
	if err := v.err(); err != nil {
		return nil, err
	}
	p, err := payload(in.SecretString, in.SecretBinary)
	if err != nil {
		return nil, err
	}
	name := *in.Name
	suffix := secrets.NewSuffix()
	if err := a.authorizeWith(ctx, "CreateSecret", a.store.ARN(name, suffix), createKeys(&in)); err != nil {
		return nil, err
	}
	ref, err := a.store.Create(ctx, secrets.CreateInput{
		Name: name, Description: str(in.Description), KMSKeyID: str(in.KmsKeyID), Tags: toTags(in.Tags),
		Token: str(in.ClientRequestToken), Value: p, Suffix: suffix,
	})
	switch {
	case errors.Is(err, secrets.ErrExists):
		return nil, awserr.New("ResourceExistsException", http.StatusBadRequest, "The operation failed because the secret "+name+" already exists.")
	case errors.Is(err, secrets.ErrScheduledForDeletion):
		return nil, errInvalidRequest(msgCreateDeleted)
	case err != nil:
		return nil, err
	}
	return createSecretOutput{ARN: ref.ARN, Name: ref.Name, VersionID: ref.VersionID}, nil
}

func (a *API) getSecretValue(ctx context.Context, body []byte) (any, error) {
	var in getSecretValueInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v validation
	v.secretID(in.SecretID)
	v.length("versionId", in.VersionID, 32, 64)
	v.length("versionStage", in.VersionStage, 1, 256)
	if err := v.err(); err != nil {
		return nil, err
	}
	k := keys{}
	put(k, "secretsmanager:versionid", in.VersionID)
	put(k, "secretsmanager:versionstage", in.VersionStage)
	s, err := a.resolve(ctx, "GetSecretValue", *in.SecretID, k)
	if err != nil {
		return nil, err
	}
	val, err := a.store.GetValue(ctx, s.ARN, str(in.VersionID), str(in.VersionStage))
	if err != nil {
		return nil, err
	}
	return valueOutput(val), nil
}

func (a *API) putSecretValue(ctx context.Context, body []byte) (any, error) {
	var in putSecretValueInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v validation
	v.secretID(in.SecretID)
	v.token(in.ClientRequestToken)
	v.value(in.SecretString, in.SecretBinary)
	if in.VersionStages != nil {
		v.lengthN("versionStages", len(in.VersionStages), 1, 20)
	}
	for _, s := range in.VersionStages {
		v.length("versionStages.member", &s, 1, 256)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	p, err := payload(in.SecretString, in.SecretBinary)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, errInvalidRequest(msgNoValue)
	}
	s, err := a.resolve(ctx, "PutSecretValue", *in.SecretID, nil)
	if err != nil {
		return nil, err
	}
	ref, err := a.store.PutValue(ctx, secrets.PutInput{
		SecretID: s.ARN, Token: str(in.ClientRequestToken), Value: *p, Stages: in.VersionStages,
	})
	if err != nil {
		return nil, err
	}
	return putSecretValueOutput{ARN: ref.ARN, Name: ref.Name, VersionID: ref.VersionID, VersionStages: ref.Stages}, nil
}

func (a *API) updateSecret(ctx context.Context, body []byte) (any, error) {
	var in updateSecretInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v validation
	v.secretID(in.SecretID)
	v.token(in.ClientRequestToken)
	v.length("description", in.Description, 0, 2048)
	v.length("kmsKeyId", in.KmsKeyID, 0, 2048)
	v.value(in.SecretString, in.SecretBinary)
	if err := v.err(); err != nil {
		return nil, err
	}
	p, err := payload(in.SecretString, in.SecretBinary)
	if err != nil {
		return nil, err
	}
	k := keys{}
	put(k, "secretsmanager:description", in.Description)
	put(k, "secretsmanager:kmskeyid", in.KmsKeyID)
	s, err := a.resolve(ctx, "UpdateSecret", *in.SecretID, k)
	if err != nil {
		return nil, err
	}
	ref, err := a.store.Update(ctx, secrets.UpdateInput{
		SecretID: s.ARN, Token: str(in.ClientRequestToken), Description: in.Description, KMSKeyID: in.KmsKeyID, Value: p,
	})
	if err != nil {
		return nil, err
	}
	return createSecretOutput{ARN: ref.ARN, Name: ref.Name, VersionID: ref.VersionID}, nil
}

// createKeys are the keys of a CreateSecret request. The new secret's
// tags are both the request's and the resource's.
func createKeys(in *createSecretInput) keys {
	k := keys{}
	put(k, "secretsmanager:name", in.Name)
	put(k, "secretsmanager:description", in.Description)
	put(k, "secretsmanager:kmskeyid", in.KmsKeyID)
	put(k, "secretsmanager:forceoverwritereplicasecret", in.ForceOverwriteReplicaSecret)
	tags := toTags(in.Tags)
	tagKeys(k, tags)
	for _, t := range tags {
		tk := strings.ToLower(t.Key)
		k["aws:resourcetag/"+tk] = []string{t.Value}
		k["secretsmanager:resourcetag/"+tk] = []string{t.Value}
	}
	var regions []string
	for _, r := range in.AddReplicaRegions {
		if r.Region != nil {
			regions = append(regions, *r.Region)
		}
	}
	if len(regions) > 0 {
		k["secretsmanager:addreplicaregions"] = regions
	}
	return k
}
