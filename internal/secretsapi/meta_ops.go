package secretsapi

import (
	"context"

	"github.com/sqlgate/sqlgate/internal/secrets"
)

func (a *API) describeSecret(ctx context.Context, body []byte) (any, error) {
	s, err := a.resolveBody(ctx, "DescribeSecret", body)
	if err != nil {
		return nil, err
	}
	return describe(s), nil
}

func (a *API) listSecretVersionIDs(ctx context.Context, body []byte) (any, error) {
	var in listVersionIDsInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v validation
	v.secretID(in.SecretID)
	v.rangeInt("maxResults", in.MaxResults, 1, 100)
	if err := v.err(); err != nil {
		return nil, err
	}
	s, err := a.resolve(ctx, "ListSecretVersionIds", *in.SecretID, nil)
	if err != nil {
		return nil, err
	}
	var all []versionListEntry
	for _, ver := range s.Versions {
		if len(ver.Stages) == 0 && (in.IncludeDeprecated == nil || !*in.IncludeDeprecated) {
			continue
		}
		all = append(all, versionListEntry{
			VersionID: ver.ID, VersionStages: ver.Stages,
			LastAccessedDate: epochPtr(ver.LastAccessed), CreatedDate: epochPtr(ver.Created),
		})
	}
	page, next, err := paginate(all, in.MaxResults, in.NextToken, "versions:"+s.ARN)
	if err != nil {
		return nil, err
	}
	if page == nil {
		page = []versionListEntry{}
	}
	return listVersionIDsOutput{ARN: s.ARN, Name: s.Name, Versions: page, NextToken: next}, nil
}

func (a *API) deleteSecret(ctx context.Context, body []byte) (any, error) {
	var in deleteSecretInput
	if err := decodeWithID(body, &in, &in.SecretID); err != nil {
		return nil, err
	}
	force := in.ForceDeleteWithoutRecovery != nil && *in.ForceDeleteWithoutRecovery
	if force && in.RecoveryWindowInDays != nil {
		return nil, errInvalidParameter(msgForceAndWindow)
	}
	days := 0
	if w := in.RecoveryWindowInDays; w != nil {
		if *w < secrets.MinRecoveryDays || *w > secrets.MaxRecoveryDays {
			return nil, errInvalidParameter("The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
		}
		days = int(*w)
	}
	k := keys{}
	put(k, "secretsmanager:recoverywindowindays", in.RecoveryWindowInDays)
	put(k, "secretsmanager:forcedeletewithoutrecovery", in.ForceDeleteWithoutRecovery)
	sec, err := a.resolve(ctx, "DeleteSecret", *in.SecretID, k)
	if err != nil {
		return nil, err
	}
	res, err := a.store.Delete(ctx, sec.ARN, days, force)
	if err != nil {
		return nil, err
	}
	return deleteSecretOutput{ARN: res.ARN, Name: res.Name, DeletionDate: epoch(res.DeletionDate)}, nil
}

// secretOp runs a metadata operation that answers {ARN, Name}.
func (a *API) secretOp(ctx context.Context, op string, id *string, v validation, k keys, fn func(arn string) (*secrets.Ref, error)) (any, error) {
	v.secretID(id)
	if err := v.err(); err != nil {
		return nil, err
	}
	s, err := a.resolve(ctx, op, *id, k)
	if err != nil {
		return nil, err
	}
	ref, err := fn(s.ARN)
	if err != nil {
		return nil, err
	}
	return arnNameOutput{ARN: ref.ARN, Name: ref.Name}, nil
}

func (a *API) restoreSecret(ctx context.Context, body []byte) (any, error) {
	var in secretIDInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return a.secretOp(ctx, "RestoreSecret", in.SecretID, nil, nil, func(arn string) (*secrets.Ref, error) {
		return a.store.Restore(ctx, arn)
	})
}

// empty is the {} response of TagResource and UntagResource.
type empty struct{}

func (a *API) tagResource(ctx context.Context, body []byte) (any, error) {
	var in tagResourceInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v validation
	v.required("tags", in.Tags != nil)
	v.tags("tags", in.Tags)
	k := keys{}
	tagKeys(k, toTags(in.Tags))
	if _, err := a.secretOp(ctx, "TagResource", in.SecretID, v, k, func(arn string) (*secrets.Ref, error) {
		return a.store.Tag(ctx, arn, toTags(in.Tags))
	}); err != nil {
		return nil, err
	}
	return empty{}, nil
}

func (a *API) untagResource(ctx context.Context, body []byte) (any, error) {
	var in untagResourceInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v validation
	v.required("tagKeys", in.TagKeys != nil)
	k := keys{}
	if len(in.TagKeys) > 0 {
		k["aws:tagkeys"] = in.TagKeys
	}
	if _, err := a.secretOp(ctx, "UntagResource", in.SecretID, v, k, func(arn string) (*secrets.Ref, error) {
		return a.store.Untag(ctx, arn, in.TagKeys)
	}); err != nil {
		return nil, err
	}
	return empty{}, nil
}

func (a *API) updateSecretVersionStage(ctx context.Context, body []byte) (any, error) {
	var in updateVersionStageInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v validation
	v.required("versionStage", in.VersionStage != nil)
	v.length("versionStage", in.VersionStage, 1, 256)
	v.length("removeFromVersionId", in.RemoveFromVersionID, 32, 64)
	v.length("moveToVersionId", in.MoveToVersionID, 32, 64)
	k := keys{}
	put(k, "secretsmanager:versionstage", in.VersionStage)
	return a.secretOp(ctx, "UpdateSecretVersionStage", in.SecretID, v, k, func(arn string) (*secrets.Ref, error) {
		return a.store.UpdateVersionStage(ctx, secrets.StageInput{
			SecretID: arn, Stage: str(in.VersionStage), MoveTo: str(in.MoveToVersionID), RemoveFrom: str(in.RemoveFromVersionID),
		})
	})
}
