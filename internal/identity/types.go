// Package identity stores IAM principals — users, their access keys, roles,
// managed and inline policies — and STS temporary credentials, in the
// state store. Secret access keys are sealed with the barrier so a dump of
// the store does not reveal them, and stay usable for SigV4 HMAC.
//
// The Authorizer evaluates a principal's policies (internal/iam) on every
// call, from compiled policies cached in memory and invalidated when the
// state store reports a write (also by another node).
package identity

import (
	"errors"
	"fmt"
	"time"
)

// Errors callers branch on.
var (
	ErrNotFound        = errors.New("identity: not found")
	ErrExists          = errors.New("identity: already exists")
	ErrLimitExceeded   = errors.New("identity: limit exceeded")
	ErrDeleteConflict  = errors.New("identity: delete conflict")
	ErrMalformedPolicy = errors.New("identity: malformed policy document")
	ErrInvalidInput    = errors.New("identity: invalid input")
)

// User is an IAM user.
type User struct {
	UserName   string    `json:"user_name"`
	UserID     string    `json:"user_id"` // AIDA…
	ARN        string    `json:"arn"`
	Path       string    `json:"path"`
	CreateDate time.Time `json:"create_date"`
	PolicySet
	// Groups are the names of the groups the user is a member of, whose
	// policies apply to the user too.
	Groups []string `json:"groups,omitempty"`
	Tags   Tags     `json:"tags,omitempty"`
}

// AccessKey is the metadata of an access key (never the secret).
type AccessKey struct {
	AccessKeyID string    `json:"access_key_id"`
	UserName    string    `json:"user_name"`
	Status      string    `json:"status"` // Active | Inactive
	CreateDate  time.Time `json:"create_date"`
	LastUsed    time.Time `json:"last_used,omitempty"`
}

// Role is an IAM role.
type Role struct {
	RoleName           string    `json:"role_name"`
	RoleID             string    `json:"role_id"` // AROA…
	ARN                string    `json:"arn"`
	Path               string    `json:"path"`
	Description        string    `json:"description,omitempty"`
	CreateDate         time.Time `json:"create_date"`
	TrustPolicy        string    `json:"trust_policy"`
	MaxSessionDuration int       `json:"max_session_duration"` // seconds
	PolicySet
	Tags Tags `json:"tags,omitempty"`
	// LastUsed is when a session of the role was last used (hourly
	// granularity), with the region it was used in; zero if never.
	LastUsed       time.Time `json:"last_used,omitempty"`
	LastUsedRegion string    `json:"last_used_region,omitempty"`
}

// Group is an IAM group: its policies apply to its members (the users
// whose Groups name it).
type Group struct {
	GroupName  string    `json:"group_name"`
	GroupID    string    `json:"group_id"` // AGPA…
	ARN        string    `json:"arn"`
	Path       string    `json:"path"`
	CreateDate time.Time `json:"create_date"`
	PolicySet
}

// ManagedPolicy is a named, versioned policy.
type ManagedPolicy struct {
	PolicyName       string          `json:"policy_name"`
	PolicyID         string          `json:"policy_id"` // ANPA…
	ARN              string          `json:"arn"`
	Path             string          `json:"path"`
	Description      string          `json:"description,omitempty"`
	DefaultVersionID string          `json:"default_version_id"`
	AttachmentCount  int             `json:"attachment_count"`
	CreateDate       time.Time       `json:"create_date"`
	UpdateDate       time.Time       `json:"update_date"`
	Versions         []PolicyVersion `json:"versions"`
	Tags             Tags            `json:"tags,omitempty"`
}

// PolicyVersion is one version of a managed policy.
type PolicyVersion struct {
	VersionID  string    `json:"version_id"` // v1, v2, …
	Document   string    `json:"document"`
	IsDefault  bool      `json:"is_default"`
	CreateDate time.Time `json:"create_date"`
}

// Credentials are an access key pair, with a session token for temporary
// credentials.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time // zero for long-term keys
}

// Session is an assumed-role session (STS AssumeRole).
type Session struct {
	AccessKeyID    string    `json:"access_key_id"` // ASIA…
	RoleName       string    `json:"role_name"`
	RoleARN        string    `json:"role_arn"`
	RoleID         string    `json:"role_id"`
	SessionName    string    `json:"session_name"`
	AssumedRoleARN string    `json:"assumed_role_arn"` // arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION
	Expiration     time.Time `json:"expiration"`
	SourceIdentity string    `json:"source_identity,omitempty"`
	CallerARN      string    `json:"caller_arn"`
	Issued         time.Time `json:"issued"`
	// Tags are the session tags; TransitiveTags the keys of them that
	// pass on to a chained role session.
	Tags           Tags     `json:"tags,omitempty"`
	TransitiveTags []string `json:"transitive_tags,omitempty"`
	// Policies are the session policies (the Policy parameter and the
	// documents of PolicyArns at the time of AssumeRole): the session may
	// do only what the role's policies and every one of these allow.
	Policies []string `json:"policies,omitempty"`
}

// msgError is a sentinel with the public message AWS would send: Error()
// is "sentinel: message", and errors.Is matches the sentinel.
type msgError struct {
	kind error
	msg  string
}

func (e *msgError) Error() string { return e.kind.Error() + ": " + e.msg }
func (e *msgError) Unwrap() error { return e.kind }

// errf returns kind with a formatted public message.
func errf(kind error, format string, args ...any) error {
	return &msgError{kind: kind, msg: fmt.Sprintf(format, args...)}
}
