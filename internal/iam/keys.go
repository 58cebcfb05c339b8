package iam

import (
	"strconv"
	"strings"
	"time"
)

// knownKey reports whether k (lower-case) is a condition key sqlgate
// knows: one of the key table (keytable.go) or of otherKeys. A condition on
// a key outside this set that is also absent from the request is
// indeterminate and fails closed, so a typo such as "aws:SourceIpp" in a
// Deny never silently stops denying. Keys present in Request.Context are
// always evaluated normally.
func knownKey(k string) bool {
	if _, ok := allKeys[k]; ok || otherKeys[k] {
		return true
	}
	for _, p := range allPrefixes {
		if strings.HasPrefix(k, p) && len(k) > len(p) {
			return true
		}
	}
	return false
}

// otherKeys are AWS keys of actions sqlgate does not implement; a policy
// written for AWS may name them, and they are missing from every request
// here, exactly as AWS leaves them out of a request to another action.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
var otherKeys = map[string]bool{
	"sts:durationseconds": true, "iam:passedtoservice": true, "iam:associatedresourcearn": true,
	"iam:awsservicename": true, "iam:organizationspolicyid": true,
}

// ctxValues is the value list of one condition key, without allocating for
// values derived from the principal.
type ctxValues struct {
	list   []string
	one    string
	single bool
}

func (v ctxValues) len() int {
	if v.single {
		return 1
	}
	return len(v.list)
}

func (v ctxValues) at(i int) string {
	if v.single {
		return v.one
	}
	return v.list[i]
}

// evalCtx is the per-request state of one Evaluate call.
type evalCtx struct {
	req   *Request
	lower []byte // req.Action, lower-cased
}

// lookup returns the values of condition key k (lower-case). Values in
// Request.Context win; principal keys and the clock fill in the rest, so a
// caller that passes only a Principal still gets aws:username and friends.
func (ec *evalCtx) lookup(k string) (ctxValues, bool) {
	if ec.req.Context == nil && ec.req.LazyContext != nil {
		ec.req.Context, ec.req.LazyContext = ec.req.LazyContext(), nil
	}
	if vs, ok := ec.req.Context[k]; ok {
		return ctxValues{list: vs}, len(vs) > 0
	}
	one := func(s string) (ctxValues, bool) { return ctxValues{one: s, single: true}, s != "" }
	switch k {
	case "aws:currenttime":
		return one(now().UTC().Format(time.RFC3339))
	case "aws:epochtime":
		return one(strconv.FormatInt(now().Unix(), 10))
	}
	p := ec.req.Principal
	if p == nil {
		return ctxValues{}, false
	}
	if tag, ok := strings.CutPrefix(k, "aws:principaltag/"); ok {
		for tk, tv := range p.Tags {
			if strings.EqualFold(tk, tag) {
				return ctxValues{one: tv, single: true}, true
			}
		}
		return ctxValues{}, false
	}
	switch k {
	case "aws:principalarn":
		return one(principalARN(p))
	case "aws:principalaccount":
		return one(accountOf(p.ARN))
	case "aws:username":
		if p.Root || p.RoleARN != "" {
			return ctxValues{}, false
		}
		return one(p.UserName)
	case "aws:userid":
		return one(p.UserID)
	case "aws:principaltype":
		switch {
		case p.Root:
			return one("Account")
		case p.Service != "":
			return one("AWSService")
		case principalARN(p) != p.ARN:
			return one("AssumedRole")
		}
		return one("User")
	}
	return ctxValues{}, false
}

// single returns the one value of k, for policy variables: a missing or
// multivalued key cannot be substituted.
func (ec *evalCtx) single(k string) (string, bool) {
	v, ok := ec.lookup(k)
	if !ok || v.len() != 1 {
		return "", false
	}
	return v.at(0), true
}
