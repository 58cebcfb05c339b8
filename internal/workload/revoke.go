package workload

import (
	"context"
	"fmt"
	"time"
)

// RevokePolicyName is the inline role policy that revokes older sessions,
// named as AWS's console names it.
const RevokePolicyName = "AWSRevokeOlderSessions"

// PolicyPutter puts an inline role policy (the identity store).
type PolicyPutter interface {
	PutRolePolicy(ctx context.Context, role, name, doc string) error
}

// RevokeSessions revokes every session of role issued before now, as AWS's
// "Revoke active sessions" does: an inline policy denying everything to
// sessions whose aws:TokenIssueTime is before the cut-off. Token issue
// times have one-second resolution, so the cut-off is now rounded up to
// the next second: a session issued in the same second is revoked too
// (a workload asking again a second later gets working credentials).
// The identity store's cache is invalidated through the state store's
// watch, so every node applies the policy at once. It returns the cut-off.
func RevokeSessions(ctx context.Context, roles PolicyPutter, role string, now time.Time) (time.Time, error) {
	cut := now.UTC().Truncate(time.Second).Add(time.Second)
	doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],`+
		`"Condition":{"DateLessThan":{"aws:TokenIssueTime":%q}}}]}`, cut.Format(time.RFC3339))
	if err := roles.PutRolePolicy(ctx, role, RevokePolicyName, doc); err != nil {
		return time.Time{}, fmt.Errorf("revoke sessions of role %s: %w", role, err)
	}
	return cut, nil
}
