package secretsapi

// Wire types of the Secrets Manager awsJson1.1 protocol. Member names copy
// AWS's exactly. https://docs.aws.amazon.com/secretsmanager/latest/apireference/

import (
	"strconv"
	"time"

	"github.com/sqlgate/sqlgate/internal/secrets"
)

// epoch is a timestamp in awsJson's default format: seconds since the Unix
// epoch as a JSON number with millisecond precision.
type epoch time.Time

func (t epoch) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(time.Time(t).UnixMilli())/1000, 'f', -1, 64), nil
}

// epochPtr returns nil for the zero time so that omitempty drops it.
func epochPtr(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

type tag struct {
	Key   *string `json:"Key"`
	Value *string `json:"Value"`
}

func toTags(in []tag) []secrets.Tag {
	out := make([]secrets.Tag, 0, len(in))
	for _, t := range in {
		var st secrets.Tag
		if t.Key != nil {
			st.Key = *t.Key
		}
		if t.Value != nil {
			st.Value = *t.Value
		}
		out = append(out, st)
	}
	return out
}

func fromTags(in []secrets.Tag) []tag {
	if in == nil {
		return nil
	}
	out := make([]tag, len(in))
	for i, t := range in {
		out[i] = tag{Key: &t.Key, Value: &t.Value}
	}
	return out
}

type createSecretInput struct {
	Name               *string `json:"Name"`
	ClientRequestToken *string `json:"ClientRequestToken"`
	Description        *string `json:"Description"`
	KmsKeyID           *string `json:"KmsKeyId"`
	SecretString       *string `json:"SecretString"`
	SecretBinary       []byte  `json:"SecretBinary"`
	Tags               []tag   `json:"Tags"`
	// AddReplicaRegions and ForceOverwriteReplicaSecret are accepted and
	// ignored (no replicas), but supplied as condition keys.
	AddReplicaRegions []struct {
		Region *string `json:"Region"`
	} `json:"AddReplicaRegions"`
	ForceOverwriteReplicaSecret *bool `json:"ForceOverwriteReplicaSecret"`
}

type createSecretOutput struct {
	ARN       string `json:"ARN"`
	Name      string `json:"Name"`
	VersionID string `json:"VersionId,omitempty"`
}

type getSecretValueInput struct {
	SecretID     *string `json:"SecretId"`
	VersionID    *string `json:"VersionId"`
	VersionStage *string `json:"VersionStage"`
}

// getSecretValueOutput is GetSecretValue's answer and, with the same
// members, a BatchGetSecretValue SecretValueEntry.
type getSecretValueOutput struct {
	ARN           string   `json:"ARN"`
	Name          string   `json:"Name"`
	VersionID     string   `json:"VersionId"`
	SecretString  *string  `json:"SecretString,omitempty"`
	SecretBinary  []byte   `json:"SecretBinary,omitempty"`
	VersionStages []string `json:"VersionStages"`
	CreatedDate   epoch    `json:"CreatedDate"`
}

func valueOutput(val *secrets.Value) getSecretValueOutput {
	return getSecretValueOutput{
		ARN: val.ARN, Name: val.Name, VersionID: val.VersionID,
		SecretString: val.SecretString, SecretBinary: val.SecretBinary,
		VersionStages: val.Stages, CreatedDate: epoch(val.Created),
	}
}

type putSecretValueInput struct {
	SecretID           *string  `json:"SecretId"`
	ClientRequestToken *string  `json:"ClientRequestToken"`
	SecretString       *string  `json:"SecretString"`
	SecretBinary       []byte   `json:"SecretBinary"`
	VersionStages      []string `json:"VersionStages"`
}

type putSecretValueOutput struct {
	ARN           string   `json:"ARN"`
	Name          string   `json:"Name"`
	VersionID     string   `json:"VersionId"`
	VersionStages []string `json:"VersionStages"`
}

type updateSecretInput struct {
	SecretID           *string `json:"SecretId"`
	ClientRequestToken *string `json:"ClientRequestToken"`
	Description        *string `json:"Description"`
	KmsKeyID           *string `json:"KmsKeyId"`
	SecretString       *string `json:"SecretString"`
	SecretBinary       []byte  `json:"SecretBinary"`
}

type secretIDInput struct {
	SecretID *string `json:"SecretId"`
}

type arnNameOutput struct {
	ARN  string `json:"ARN"`
	Name string `json:"Name"`
}

// secretHead are the members DescribeSecret and a ListSecrets entry share
// before their version map (AWS's member order).
type secretHead struct {
	ARN              string `json:"ARN"`
	Name             string `json:"Name"`
	Description      string `json:"Description,omitempty"`
	KmsKeyID         string `json:"KmsKeyId,omitempty"`
	LastChangedDate  *epoch `json:"LastChangedDate,omitempty"`
	LastAccessedDate *epoch `json:"LastAccessedDate,omitempty"`
	DeletedDate      *epoch `json:"DeletedDate,omitempty"`
	Tags             []tag  `json:"Tags,omitempty"`
}

type describeSecretOutput struct {
	secretHead
	VersionIDsToStages map[string][]string `json:"VersionIdsToStages,omitempty"`
	CreatedDate        *epoch              `json:"CreatedDate,omitempty"`
	rotationState
}

// rotationState are the rotation members of DescribeSecret and of a
// ListSecrets entry. RotationFailure is sqlgate's own: why the last
// rotation attempt failed (the SDKs ignore it; the raw JSON and the
// console show it).
type rotationState struct {
	RotationEnabled   *bool          `json:"RotationEnabled,omitempty"`
	RotationLambdaARN string         `json:"RotationLambdaARN,omitempty"`
	RotationRules     *rotationRules `json:"RotationRules,omitempty"`
	LastRotatedDate   *epoch         `json:"LastRotatedDate,omitempty"`
	NextRotationDate  *epoch         `json:"NextRotationDate,omitempty"`
	RotationFailure   string         `json:"RotationFailure,omitempty"`
}

func rotationOf(r *secrets.Rotation) rotationState {
	if r == nil {
		return rotationState{}
	}
	enabled := r.Enabled
	out := rotationState{RotationEnabled: &enabled, RotationLambdaARN: r.LambdaARN, RotationFailure: r.Failure}
	if r.Rules != (secrets.Rules{}) {
		rr := &rotationRules{}
		if r.Rules.AfterDays > 0 {
			d := r.Rules.AfterDays
			rr.AutomaticallyAfterDays = &d
		}
		if r.Rules.Schedule != "" {
			s := r.Rules.Schedule
			rr.ScheduleExpression = &s
		}
		if r.Rules.Duration != "" {
			d := r.Rules.Duration
			rr.Duration = &d
		}
		out.RotationRules = rr
	}
	if r.LastRotated != nil {
		out.LastRotatedDate = epochPtr(*r.LastRotated)
	}
	out.NextRotationDate = epochPtr(r.Next())
	return out
}

func describe(s *secrets.Secret) describeSecretOutput {
	out := describeSecretOutput{
		secretHead: secretHead{
			ARN: s.ARN, Name: s.Name, Description: s.Description, KmsKeyID: s.KMSKeyID,
			LastChangedDate: epochPtr(s.LastChanged), LastAccessedDate: epochPtr(s.LastAccessed),
			DeletedDate: epochPtr(s.DeletedDate), Tags: fromTags(s.Tags),
		},
		CreatedDate: epochPtr(s.Created), rotationState: rotationOf(s.Rotation),
	}
	if m := s.VersionIDsToStages(); len(m) > 0 {
		out.VersionIDsToStages = m
	}
	return out
}

type filter struct {
	Key    *string  `json:"Key"`
	Values []string `json:"Values"`
}

type listSecretsInput struct {
	IncludePlannedDeletion *bool    `json:"IncludePlannedDeletion"`
	MaxResults             *int     `json:"MaxResults"`
	NextToken              *string  `json:"NextToken"`
	Filters                []filter `json:"Filters"`
	SortOrder              *string  `json:"SortOrder"`
	SortBy                 *string  `json:"SortBy"`
}

type secretListEntry struct {
	secretHead
	SecretVersionsToStages map[string][]string `json:"SecretVersionsToStages,omitempty"`
	CreatedDate            *epoch              `json:"CreatedDate,omitempty"`
	rotationState
}

type listSecretsOutput struct {
	SecretList []secretListEntry `json:"SecretList"`
	NextToken  string            `json:"NextToken,omitempty"`
}

type listVersionIDsInput struct {
	SecretID          *string `json:"SecretId"`
	MaxResults        *int    `json:"MaxResults"`
	NextToken         *string `json:"NextToken"`
	IncludeDeprecated *bool   `json:"IncludeDeprecated"`
}

type versionListEntry struct {
	VersionID        string   `json:"VersionId"`
	VersionStages    []string `json:"VersionStages,omitempty"`
	LastAccessedDate *epoch   `json:"LastAccessedDate,omitempty"`
	CreatedDate      *epoch   `json:"CreatedDate,omitempty"`
}

type listVersionIDsOutput struct {
	ARN       string             `json:"ARN"`
	Name      string             `json:"Name"`
	Versions  []versionListEntry `json:"Versions"`
	NextToken string             `json:"NextToken,omitempty"`
}

type deleteSecretInput struct {
	SecretID                   *string `json:"SecretId"`
	RecoveryWindowInDays       *int64  `json:"RecoveryWindowInDays"`
	ForceDeleteWithoutRecovery *bool   `json:"ForceDeleteWithoutRecovery"`
}

type deleteSecretOutput struct {
	ARN          string `json:"ARN"`
	Name         string `json:"Name"`
	DeletionDate epoch  `json:"DeletionDate"`
}

type tagResourceInput struct {
	SecretID *string `json:"SecretId"`
	Tags     []tag   `json:"Tags"`
}

type untagResourceInput struct {
	SecretID *string  `json:"SecretId"`
	TagKeys  []string `json:"TagKeys"`
}

type updateVersionStageInput struct {
	SecretID            *string `json:"SecretId"`
	VersionStage        *string `json:"VersionStage"`
	RemoveFromVersionID *string `json:"RemoveFromVersionId"`
	MoveToVersionID     *string `json:"MoveToVersionId"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
