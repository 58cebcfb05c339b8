package identity

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sqlgate/sqlgate/internal/iam"
)

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

// ListRolePolicies returns the names of a role's inline policies, sorted.
func (s *Store) ListRolePolicies(ctx context.Context, role string) ([]string, error) {
	r, err := s.GetRole(ctx, role)
	if err != nil {
		return nil, err
	}
	return slices.Sorted(maps.Keys(r.InlinePolicies)), nil
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
