package secretsapi

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/sqlgate/sqlgate/internal/secrets"
)

type batchGetInput struct {
	SecretIDList []string `json:"SecretIdList"`
	Filters      []filter `json:"Filters"`
	MaxResults   *int     `json:"MaxResults"`
	NextToken    *string  `json:"NextToken"`
}

type apiErrorEntry struct {
	SecretID     string `json:"SecretId"`
	ErrorCode    string `json:"ErrorCode"`
	ErrorMessage string `json:"Message"`
}

type batchGetOutput struct {
	SecretValues []getSecretValueOutput `json:"SecretValues"`
	NextToken    string                 `json:"NextToken,omitempty"`
	Errors       []apiErrorEntry        `json:"Errors"`
}

// batchGetSecretValue returns the AWSCURRENT values of up to 20 secrets,
// named by SecretIdList or selected by Filters (as ListSecrets, paginated
// by MaxResults). It needs secretsmanager:BatchGetSecretValue on "*", with
// Filters also secretsmanager:ListSecrets, and GetSecretValue on each
// secret: a secret the caller may not read is reported in Errors, as is a
// missing or deleted one.
func (a *API) batchGetSecretValue(ctx context.Context, body []byte) (any, error) {
	var in batchGetInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := validateBatch(&in); err != nil {
		return nil, err
	}
	if err := a.authorize(ctx, "BatchGetSecretValue", "*"); err != nil {
		return nil, err
	}
	ids, next, err := a.batchIDs(ctx, &in)
	if err != nil {
		return nil, err
	}
	out := batchGetOutput{SecretValues: []getSecretValueOutput{}, Errors: []apiErrorEntry{}, NextToken: next}
	for _, id := range ids {
		e, err := a.batchValue(ctx, id)
		if err != nil {
			ae := toAPIError(err)
			out.Errors = append(out.Errors, apiErrorEntry{SecretID: id, ErrorCode: ae.Code, ErrorMessage: ae.Msg})
			continue
		}
		out.SecretValues = append(out.SecretValues, e)
	}
	return out, nil
}

func validateBatch(in *batchGetInput) error {
	switch {
	case in.SecretIDList != nil && in.Filters != nil:
		return errInvalidParameter("Either 'SecretIdList' or 'Filters' must be provided, but not both.")
	case in.SecretIDList == nil && in.Filters == nil:
		return errInvalidParameter("Either 'SecretIdList' or 'Filters' must be provided.")
	case in.SecretIDList != nil && (in.MaxResults != nil || in.NextToken != nil):
		return errInvalidParameter("'MaxResults' and 'NextToken' can only be used with 'Filters'.")
	}
	var v validation
	if in.SecretIDList != nil {
		v.lengthN("secretIdList", len(in.SecretIDList), 1, 20)
	}
	for _, id := range in.SecretIDList {
		v.length("secretIdList.member", &id, 1, 2048)
	}
	v.rangeInt("maxResults", in.MaxResults, 1, 20)
	if err := v.err(); err != nil {
		return err
	}
	return validateList(&listSecretsInput{Filters: in.Filters, NextToken: in.NextToken})
}

// batchIDs returns the secret ids to read: the list as given, or one page
// of the secrets the filters select (ARNs), with the next page's token.
func (a *API) batchIDs(ctx context.Context, in *batchGetInput) ([]string, string, error) {
	if in.SecretIDList != nil {
		return in.SecretIDList, "", nil
	}
	if err := a.authorize(ctx, "ListSecrets", "*"); err != nil {
		return nil, "", err
	}
	all, err := a.store.List(ctx, false)
	if err != nil {
		return nil, "", err
	}
	all = slices.DeleteFunc(all, func(s *secrets.Secret) bool { return !matchFilters(s, in.Filters) })
	sortSecrets(all, "", "")
	max := 20
	if in.MaxResults != nil {
		max = *in.MaxResults
	}
	scope, _ := json.Marshal(in.Filters)
	page, next, err := paginate(all, &max, in.NextToken, "batch:"+string(scope))
	if err != nil {
		return nil, "", err
	}
	ids := make([]string, len(page))
	for i, s := range page {
		ids[i] = s.ARN
	}
	return ids, next, nil
}

// batchValue reads one secret's AWSCURRENT value, authorized as
// GetSecretValue.
func (a *API) batchValue(ctx context.Context, id string) (getSecretValueOutput, error) {
	s, err := a.resolve(ctx, "GetSecretValue", id, nil)
	if err != nil {
		return getSecretValueOutput{}, err
	}
	val, err := a.store.GetValue(ctx, s.ARN, "", "")
	if err != nil {
		return getSecretValueOutput{}, err
	}
	return valueOutput(val), nil
}
