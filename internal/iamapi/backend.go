package iamapi

import (
	"context"

	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/identity"
)

// Backend is what the API needs from the identity store; *identity.Store
// implements it. The API validates parameters (AWS's patterns and lengths)
// and authorizes the caller before it calls the Backend.
//
// Errors: methods return identity.ErrNotFound, ErrExists,
// ErrLimitExceeded, ErrDeleteConflict, ErrMalformedPolicy or
// ErrInvalidInput (matched with errors.Is) for the AWS error codes
// NoSuchEntity, EntityAlreadyExists, LimitExceeded, DeleteConflict,
// MalformedPolicyDocument and InvalidInput. To give the client AWS's
// message, wrap the sentinel directly:
//
//	fmt.Errorf("%w: Cannot delete entity, must delete access keys first.", identity.ErrDeleteConflict)
//
// A bare sentinel gets a message naming the entity the action was about.
// Any other error is an internal failure (HTTP 500; logged, not shown).
type Backend interface {
	UserBackend
	RoleBackend
	RoleEditBackend
	GroupBackend
	PolicyBackend
	SessionBackend
	TagBackend
}

// TagBackend tags users, roles and managed policies: a tag whose key
// matches an existing one ignoring case replaces it (ErrLimitExceeded past
// fifty, ErrInvalidInput for a malformed tag).
type TagBackend interface {
	TagUser(ctx context.Context, name string, tags identity.Tags) error
	UntagUser(ctx context.Context, name string, keys []string) error
	TagRole(ctx context.Context, name string, tags identity.Tags) error
	UntagRole(ctx context.Context, name string, keys []string) error
	TagPolicy(ctx context.Context, arn string, tags identity.Tags) error
	UntagPolicy(ctx context.Context, arn string, keys []string) error
}

// UserBackend manages users, their access keys and inline policies.
type UserBackend interface {
	// CreateUser creates a user; path "" means "/".
	CreateUser(ctx context.Context, name, path string, tags ...identity.Tag) (*identity.User, error)
	// GetUser returns a user with its inline and attached policies.
	GetUser(ctx context.Context, name string) (*identity.User, error)
	// ListUsers returns the users whose path starts with pathPrefix, in
	// any order.
	ListUsers(ctx context.Context, pathPrefix string) ([]*identity.User, error)
	// DeleteUser deletes a user that has no access keys and no policies
	// (else ErrDeleteConflict).
	DeleteUser(ctx context.Context, name string) error

	// CreateAccessKey creates an Active key pair; the secret is returned
	// only here. ErrLimitExceeded past two keys.
	CreateAccessKey(ctx context.Context, user string) (*identity.AccessKey, identity.Credentials, error)
	ListAccessKeys(ctx context.Context, user string) ([]*identity.AccessKey, error)
	// UpdateAccessKey sets status "Active" or "Inactive" of user's key.
	UpdateAccessKey(ctx context.Context, user, akid, status string) error
	DeleteAccessKey(ctx context.Context, user, akid string) error

	// PutUserPolicy creates or replaces an inline policy; the document is
	// parsed (ErrMalformedPolicy).
	PutUserPolicy(ctx context.Context, user, name, doc string) error
	GetUserPolicy(ctx context.Context, user, name string) (string, error)
	DeleteUserPolicy(ctx context.Context, user, name string) error
	// ListUserPolicies returns the inline policy names, sorted.
	ListUserPolicies(ctx context.Context, user string) ([]string, error)
	AttachUserPolicy(ctx context.Context, user, policyARN string) error
	DetachUserPolicy(ctx context.Context, user, policyARN string) error
}

// RoleBackend manages roles and their policies.
type RoleBackend interface {
	// CreateRole creates a role; maxSession 0 means 3600 seconds. The trust
	// policy is parsed (ErrMalformedPolicy).
	CreateRole(ctx context.Context, name, path, trustPolicy, description string, maxSession int, tags ...identity.Tag) (*identity.Role, error)
	GetRole(ctx context.Context, name string) (*identity.Role, error)
	// ListRoles returns every role, in any order.
	ListRoles(ctx context.Context) ([]*identity.Role, error)
	// DeleteRole deletes a role without policies (else ErrDeleteConflict).
	DeleteRole(ctx context.Context, name string) error
	PutRolePolicy(ctx context.Context, role, name, doc string) error
	// DeleteRolePolicy deletes an inline policy of a role (ErrNotFound
	// when it has none of that name).
	DeleteRolePolicy(ctx context.Context, role, name string) error
	AttachRolePolicy(ctx context.Context, role, policyARN string) error
	DetachRolePolicy(ctx context.Context, role, policyARN string) error
}

// PolicyBackend manages customer managed policies, addressed by ARN.
type PolicyBackend interface {
	// CreatePolicy creates a policy whose version v1 holds doc.
	CreatePolicy(ctx context.Context, name, path, doc, description string, tags ...identity.Tag) (*identity.ManagedPolicy, error)
	// GetPolicy returns a policy with its versions and attachment count.
	GetPolicy(ctx context.Context, arn string) (*identity.ManagedPolicy, error)
	GetPolicyVersion(ctx context.Context, arn, versionID string) (*identity.PolicyVersion, error)
	// ListPolicies returns every policy with its attachment count.
	ListPolicies(ctx context.Context) ([]*identity.ManagedPolicy, error)
	// DeletePolicy deletes a policy attached nowhere (else ErrDeleteConflict).
	DeletePolicy(ctx context.Context, arn string) error
	// CreatePolicyVersion adds a version (ErrLimitExceeded past five).
	CreatePolicyVersion(ctx context.Context, arn, doc string, setDefault bool) (*identity.PolicyVersion, error)
}

// SessionBackend issues STS temporary credentials.
type SessionBackend interface {
	// AssumeRole issues credentials for roleARN to caller if the role's
	// trust policy allows caller (else identity.ErrAssumeDenied; a missing
	// role is ErrNotFound). The API has already checked the caller's own
	// sts:AssumeRole permission, the session name and duration bounds.
	// duration 0 means one hour; more than the role's MaxSessionDuration is
	// ErrInvalidInput. The trust policy is evaluated with ctx's request
	// context (see identity.Store.AssumeRole).
	AssumeRole(ctx context.Context, caller *iam.Principal, in identity.AssumeInput) (*identity.Session, identity.Credentials, error)
}

var _ Backend = (*identity.Store)(nil)
