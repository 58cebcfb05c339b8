package secretsapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sqlgate/sqlgate/internal/awserr"
	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/secrets"
)

// Public messages, as Secrets Manager words them.
const (
	msgNotFound       = "Secrets Manager can't find the specified secret."
	msgMarkedDeleted  = "You can't perform this operation on the secret because it was marked for deletion."
	msgCreateDeleted  = "You can't create this secret because a secret with this name is already scheduled for deletion."
	msgVersionExists  = "You can't modify an existing version, you can only create a new version."
	msgStageMismatch  = "You provided a VersionStage that is not associated to the provided VersionId."
	msgDecrypt        = "Secrets Manager can't decrypt the protected secret text using the provided KMS key."
	msgBadNextToken   = "The NextToken value is invalid."
	msgNoValue        = "You must provide either SecretString or SecretBinary."
	msgBothValues     = "You can't specify both a binary secret value and a string secret value in the same secret."
	msgForceAndWindow = "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays."
)

func errResourceNotFound(msg string) *awserr.Error {
	return awserr.New("ResourceNotFoundException", http.StatusBadRequest, msg)
}

func errInvalidRequest(msg string) *awserr.Error {
	return awserr.New("InvalidRequestException", http.StatusBadRequest, msg)
}

func errInvalidParameter(msg string) *awserr.Error {
	return awserr.New("InvalidParameterException", http.StatusBadRequest, msg)
}

func errSerialization(cause error) *awserr.Error {
	return awserr.Wrap("SerializationException", http.StatusBadRequest, "The request body is not a valid JSON document of the expected shape.", cause)
}

func errUnknownOperation(op string) *awserr.Error {
	return awserr.Wrap("UnknownOperationException", http.StatusBadRequest, "", fmt.Errorf("unknown operation %q", op))
}

func errInternal(cause error) *awserr.Error {
	return awserr.Wrap("InternalServiceError", http.StatusInternalServerError, "An error occurred on the server side.", cause)
}

// errAccessDenied words a denial the way Secrets Manager does; it answers
// AccessDeniedException with status 400.
func errAccessDenied(e *iam.AccessDeniedError) *awserr.Error {
	msg := fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s because no identity-based policy allows the %s action",
		e.PrincipalARN, e.Action, e.Resource, e.Action)
	return awserr.Wrap("AccessDeniedException", http.StatusBadRequest, msg, e)
}

// toAPIError maps an error of the secrets package (or iam) to the exception
// Secrets Manager would return. Messages never contain secret values.
func toAPIError(err error) *awserr.Error {
	var (
		ae  *awserr.Error
		ade *iam.AccessDeniedError
		vnf *secrets.VersionNotFoundError
		pe  *secrets.ParamError
		re  *secrets.RequestError
	)
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &ade):
		return errAccessDenied(ade)
	case errors.As(err, &vnf):
		if vnf.VersionID != "" {
			return errResourceNotFound("Secrets Manager can't find the specified secret value for VersionId: " + vnf.VersionID)
		}
		return errResourceNotFound("Secrets Manager can't find the specified secret value for staging label: " + vnf.Stage)
	case errors.Is(err, secrets.ErrNotFound):
		return errResourceNotFound(msgNotFound)
	case errors.Is(err, secrets.ErrScheduledForDeletion):
		return errInvalidRequest(msgMarkedDeleted)
	case errors.Is(err, secrets.ErrVersionExists):
		return awserr.New("ResourceExistsException", http.StatusBadRequest, msgVersionExists)
	case errors.Is(err, secrets.ErrStageMismatch):
		return errInvalidRequest(msgStageMismatch)
	case errors.Is(err, secrets.ErrDecrypt):
		return awserr.Wrap("DecryptionFailure", http.StatusBadRequest, msgDecrypt, err)
	case errors.As(err, &pe):
		return errInvalidParameter(pe.Msg)
	case errors.As(err, &re):
		return errInvalidRequest(re.Msg)
	}
	return errInternal(err)
}

// validation collects constraint violations into one ValidationException,
// worded like AWS's ("1 validation error detected: …"). Values of strings
// are never quoted, so secret values cannot leak through it.
type validation []string

func (v *validation) required(member string, present bool) {
	if !present {
		*v = append(*v, "Value null at '"+member+"' failed to satisfy constraint: Member must not be null")
	}
}

func (v *validation) length(member string, p *string, min, max int) {
	if p == nil {
		return
	}
	v.lengthN(member, len(*p), min, max)
}

func (v *validation) lengthN(member string, n, min, max int) {
	switch {
	case n < min:
		*v = append(*v, fmt.Sprintf("Value at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d", member, min))
	case n > max:
		*v = append(*v, fmt.Sprintf("Value at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", member, max))
	}
}

func (v *validation) rangeInt(member string, p *int, min, max int) {
	switch {
	case p == nil:
	case *p < min:
		*v = append(*v, fmt.Sprintf("Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", *p, member, min))
	case *p > max:
		*v = append(*v, fmt.Sprintf("Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", *p, member, max))
	}
}

func (v *validation) add(msg string) { *v = append(*v, msg) }

func (v validation) err() error {
	switch len(v) {
	case 0:
		return nil
	case 1:
		return awserr.New("ValidationException", http.StatusBadRequest, "1 validation error detected: "+v[0])
	}
	return awserr.New("ValidationException", http.StatusBadRequest,
		fmt.Sprintf("%d validation errors detected: %s", len(v), strings.Join(v, "; ")))
}

// Common member constraints.
func (v *validation) secretID(p *string) {
	v.required("secretId", p != nil)
	v.length("secretId", p, 1, 2048)
}

func (v *validation) token(p *string) { v.length("clientRequestToken", p, 32, 64) }

func (v *validation) value(s *string, b []byte) {
	v.length("secretString", s, 0, secrets.MaxValueSize)
	if b != nil {
		v.lengthN("secretBinary", len(b), 1, secrets.MaxValueSize)
	}
}

func (v *validation) tags(member string, tags []tag) {
	for i, t := range tags {
		m := fmt.Sprintf("%s.%d.member", member, i+1)
		v.required(m+".key", t.Key != nil)
		v.length(m+".key", t.Key, 1, 128)
		v.length(m+".value", t.Value, 0, 256)
	}
}
