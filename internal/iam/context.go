package iam

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// RequestContext builds the condition keys of one authorization: the
// global keys AWS supplies for every request (from the principal, the
// request info and the clock), aws:ResourceAccount from resource, then the
// service keys the API put in ctx (WithConditionKeys), which win.
// Keys AWS leaves out are left out: aws:username for anything but an IAM
// user, aws:TokenIssueTime and aws:MultiFactorAuthPresent for long-term
// keys, aws:SourceIp when the address is unknown.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
func RequestContext(ctx context.Context, p *Principal, resource string, now time.Time) map[string][]string {
	ri := RequestInfoFrom(ctx)
	keys := make(map[string][]string, 24)
	set := func(k, v string) {
		if v != "" {
			keys[k] = []string{v}
		}
	}
	set("aws:currenttime", now.UTC().Format(time.RFC3339))
	set("aws:epochtime", strconv.FormatInt(now.Unix(), 10))
	set("aws:securetransport", strconv.FormatBool(ri.Secure))
	set("aws:sourceip", ri.SourceIP)
	set("aws:requestedregion", ri.Region)
	set("aws:useragent", ri.UserAgent)
	set("aws:referer", ri.Referer)
	set("aws:viaawsservice", strconv.FormatBool(ri.ViaService))
	set("aws:principalisawsservice", "false")
	if resource != "" && resource != "*" {
		set("aws:resourceaccount", accountOf(resource))
	}
	if p != nil {
		principalContext(keys, p)
	}
	for k, v := range ConditionKeysFrom(ctx) {
		keys[k] = v
	}
	return keys
}

// principalContext adds the keys that describe the principal.
func principalContext(keys map[string][]string, p *Principal) {
	set := func(k, v string) {
		if v != "" {
			keys[k] = []string{v}
		}
	}
	set("aws:principalarn", principalARN(p))
	set("aws:principalaccount", accountOf(p.ARN))
	set("aws:userid", p.UserID)
	switch {
	case p.Root:
		set("aws:principaltype", "Account")
	case p.RoleARN != "":
		set("aws:principaltype", "AssumedRole")
	default:
		set("aws:principaltype", "User")
		set("aws:username", p.UserName)
	}
	for k, v := range p.Tags {
		keys["aws:principaltag/"+strings.ToLower(k)] = []string{v}
	}
	if !p.IssuedAt.IsZero() {
		set("aws:tokenissuetime", p.IssuedAt.UTC().Format(time.RFC3339))
		set("aws:multifactorauthpresent", "false")
	}
	set("aws:sourceidentity", p.SourceIdentity)
}

// PrincipalContext returns the keys describing p alone (for a trust
// policy evaluated outside an HTTP request).
func PrincipalContext(p *Principal) map[string][]string {
	keys := map[string][]string{}
	principalContext(keys, p)
	return keys
}
