package secretsapi

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/sqlgate/sqlgate/internal/awserr"
	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/secrets"
)

// maxPolicyLen is the largest ResourcePolicy Secrets Manager accepts.
const maxPolicyLen = 20480

// policyCache holds compiled resource policies by document text, so that
// authorizing a request on a secret with a policy does not re-parse it.
type policyCache struct {
	mu sync.Mutex
	m  map[string]*iam.Policy
}

const maxCachedPolicies = 1024

// compiled returns the compiled form of doc, or nil when doc is empty or
// no longer parses (then it grants nothing).
func (c *policyCache) compiled(doc string) *iam.Policy {
	if doc == "" {
		return nil
	}
	c.mu.Lock()
	p, ok := c.m[doc]
	c.mu.Unlock()
	if ok {
		return p
	}
	p, err := iam.ParseResourcePolicy([]byte(doc))
	if err != nil {
		p = nil
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedPolicies {
		c.m = map[string]*iam.Policy{}
	}
	c.m[doc] = p
	c.mu.Unlock()
	return p
}

// withPolicy adds the secret's resource policy to ctx for the authorizer.
func (a *API) withPolicy(ctx context.Context, doc string) context.Context {
	return iam.WithResourcePolicy(ctx, a.policies.compiled(doc))
}

type getResourcePolicyOutput struct {
	ARN            string `json:"ARN"`
	Name           string `json:"Name"`
	ResourcePolicy string `json:"ResourcePolicy,omitempty"`
}

type putResourcePolicyInput struct {
	SecretID          *string `json:"SecretId"`
	ResourcePolicy    *string `json:"ResourcePolicy"`
	BlockPublicPolicy *bool   `json:"BlockPublicPolicy"`
}

type validateResourcePolicyInput struct {
	SecretID       *string `json:"SecretId"`
	ResourcePolicy *string `json:"ResourcePolicy"`
}

type validationEntry struct {
	CheckName    string `json:"CheckName"`
	ErrorMessage string `json:"ErrorMessage"`
}

type validateResourcePolicyOutput struct {
	PolicyValidationPassed bool              `json:"PolicyValidationPassed"`
	ValidationErrors       []validationEntry `json:"ValidationErrors"`
}

func (a *API) getResourcePolicy(ctx context.Context, body []byte) (any, error) {
	s, err := a.resolveBody(ctx, "GetResourcePolicy", body)
	if err != nil {
		return nil, err
	}
	return getResourcePolicyOutput{ARN: s.ARN, Name: s.Name, ResourcePolicy: s.Policy}, nil
}

func (a *API) putResourcePolicy(ctx context.Context, body []byte) (any, error) {
	var in putResourcePolicyInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v validation
	v.required("resourcePolicy", in.ResourcePolicy != nil)
	v.length("resourcePolicy", in.ResourcePolicy, 1, maxPolicyLen)
	k := keys{}
	put(k, "secretsmanager:blockpublicpolicy", in.BlockPublicPolicy)
	return a.secretOp(ctx, "PutResourcePolicy", in.SecretID, v, k, func(arn string) (*secrets.Ref, error) {
		p, err := parseResourcePolicy(*in.ResourcePolicy)
		if err != nil {
			return nil, err
		}
		if in.BlockPublicPolicy != nil && *in.BlockPublicPolicy && p.AllowsPublic() {
			return nil, awserr.New("PublicPolicyException", http.StatusBadRequest,
				"The BlockPublicPolicy parameter is set to true, and the resource policy did not prevent broad access to the secret.")
		}
		return a.store.SetPolicy(ctx, arn, *in.ResourcePolicy)
	})
}

func (a *API) deleteResourcePolicy(ctx context.Context, body []byte) (any, error) {
	var in secretIDInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return a.secretOp(ctx, "DeleteResourcePolicy", in.SecretID, nil, nil, func(arn string) (*secrets.Ref, error) {
		return a.store.DeletePolicy(ctx, arn)
	})
}

// validateResourcePolicy checks the document's grammar (as IAM Access
// Analyzer's policy checks would report errors) without storing it. With
// a SecretId it is authorized on that secret, else on "*".
func (a *API) validateResourcePolicy(ctx context.Context, body []byte) (any, error) {
	var in validateResourcePolicyInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v validation
	v.required("resourcePolicy", in.ResourcePolicy != nil)
	v.length("resourcePolicy", in.ResourcePolicy, 1, maxPolicyLen)
	v.length("secretId", in.SecretID, 1, 2048)
	if err := v.err(); err != nil {
		return nil, err
	}
	if in.SecretID != nil {
		if _, err := a.resolve(ctx, "ValidateResourcePolicy", *in.SecretID, nil); err != nil {
			return nil, err
		}
	} else if err := a.authorize(ctx, "ValidateResourcePolicy", "*"); err != nil {
		return nil, err
	}
	out := validateResourcePolicyOutput{PolicyValidationPassed: true, ValidationErrors: []validationEntry{}}
	if _, err := parseResourcePolicy(*in.ResourcePolicy); err != nil {
		out.PolicyValidationPassed = false
		out.ValidationErrors = append(out.ValidationErrors, validationEntry{CheckName: "ERROR", ErrorMessage: policyMessage(err)})
	}
	return out, nil
}

// parseResourcePolicy compiles doc as a resource policy; a bad document is
// MalformedPolicyDocumentException.
func parseResourcePolicy(doc string) (*iam.Policy, error) {
	p, err := iam.ParseResourcePolicy([]byte(doc))
	if err != nil {
		return nil, awserr.Wrap("MalformedPolicyDocumentException", http.StatusBadRequest,
			"This resource policy contains an unsupported principal or is malformed: "+policyMessage(err), err)
	}
	return p, nil
}

// policyMessage is the client-safe description of a policy parse error.
func policyMessage(err error) string {
	var pe *iam.ParseError
	if errors.As(err, &pe) {
		return pe.Error()
	}
	if errors.Is(err, iam.ErrPolicyTooLarge) {
		return "the policy document is too large"
	}
	return "the policy document is not valid JSON"
}
