package identity

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/sqlgate/sqlgate/internal/iam"
)

// CreateRole creates a role whose trust policy says who may assume it.
// Names are unique ignoring case (ErrExists).
func (s *Store) CreateRole(ctx context.Context, name, path, trustPolicy, description string, maxSession int, tags ...Tag) (*Role, error) {
	if err := validName("role", name); err != nil {
		return nil, err
	}
	path, err := normPath(path)
	if err != nil {
		return nil, err
	}
	if _, err := iam.ParseTrustPolicy([]byte(trustPolicy)); err != nil {
		return nil, errf(ErrMalformedPolicy, "%v", err)
	}
	if maxSession == 0 {
		maxSession = 3600
	}
	if maxSession < 3600 || maxSession > 43200 {
		return nil, errf(ErrInvalidInput, "MaxSessionDuration must be between 3600 and 43200 seconds")
	}
	if err := checkNewTags(tags); err != nil {
		return nil, err
	}
	r := &Role{RoleName: name, RoleID: randomID("AROA", 17), ARN: s.arn("role", path, name), Path: path,
		Description: description, CreateDate: s.clock(), TrustPolicy: trustPolicy, MaxSessionDuration: maxSession, Tags: tags}
	if err := createNamed(ctx, s, nsRoles, name, r); err != nil {
		return nil, err
	}
	return r, nil
}

// GetRole returns a role or ErrNotFound.
func (s *Store) GetRole(ctx context.Context, name string) (*Role, error) {
	return get[Role](ctx, s.st, nsRoles, name)
}

// ListRoles returns every role.
func (s *Store) ListRoles(ctx context.Context) ([]*Role, error) {
	return list[Role](ctx, s.st, nsRoles)
}

// DeleteRole deletes a role without policies (else ErrDeleteConflict).
func (s *Store) DeleteRole(ctx context.Context, name string) error {
	err := update(ctx, s.st, nsRoles, name, false, func(r *Role) (*Role, error) {
		if !r.empty() {
			return nil, errf(ErrDeleteConflict, "Cannot delete entity, must detach all policies first.")
		}
		return nil, nil
	})
	s.invalidate()
	return s.deleted(ctx, nsRoles, name, err)
}

// UpdateRole changes a role's description (when description is non-nil)
// and maximum session duration (when maxSession is not 0: 3600–43200
// seconds, else ErrInvalidInput).
func (s *Store) UpdateRole(ctx context.Context, name string, description *string, maxSession int) error {
	if maxSession != 0 && (maxSession < 3600 || maxSession > 43200) {
		return errf(ErrInvalidInput, "MaxSessionDuration must be between 3600 and 43200 seconds")
	}
	err := update(ctx, s.st, nsRoles, name, false, func(r *Role) (*Role, error) {
		if description != nil {
			r.Description = *description
		}
		if maxSession != 0 {
			r.MaxSessionDuration = maxSession
		}
		return r, nil
	})
	s.invalidate()
	return err
}

// UpdateAssumeRolePolicy replaces a role's trust policy (parsed as one:
// ErrMalformedPolicy).
func (s *Store) UpdateAssumeRolePolicy(ctx context.Context, name, doc string) error {
	if _, err := iam.ParseTrustPolicy([]byte(doc)); err != nil {
		return errf(ErrMalformedPolicy, "%v", err)
	}
	err := update(ctx, s.st, nsRoles, name, false, func(r *Role) (*Role, error) {
		r.TrustPolicy = doc
		return r, nil
	})
	s.invalidate()
	return err
}

// errNoChange aborts an update that has nothing to write.
var errNoChange = errors.New("no change")

// roleUseGranularity is how stale a role's LastUsed may get: it is written
// at most this often per role, so authentication stays off the write path.
const roleUseGranularity = time.Hour

// writeRoleUse records that a session of roleARN was used at now
// (RoleLastUsed); touchDue decides when.
func (s *Store) writeRoleUse(ctx context.Context, roleARN string, now time.Time) {
	name := roleARN[strings.LastIndexByte(roleARN, '/')+1:]
	region := iam.RequestInfoFrom(ctx).Region
	_ = update(ctx, s.st, nsRoles, name, false, func(r *Role) (*Role, error) {
		if r.ARN != roleARN || now.Sub(r.LastUsed) < roleUseGranularity {
			return nil, errNoChange
		}
		r.LastUsed, r.LastUsedRegion = now, region
		return r, nil
	})
}
