package iam

import (
	"strconv"
	"strings"
	"time"
)

// Condition keys sqlgate knows about. A condition on a key outside this set
// that is also absent from the request is indeterminate and fails closed,
// so a typo such as "aws:SourceIpp" in a Deny never silently stops denying.
// Keys present in Request.Context are always evaluated normally.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html
var knownKeys = map[string]bool{
	"aws:currenttime": true, "aws:epochtime": true, "aws:securetransport": true,
	"aws:sourceip": true, "aws:sourcevpc": true, "aws:sourcevpce": true, "aws:vpcsourceip": true,
	"aws:principalarn": true, "aws:principalaccount": true, "aws:principaltype": true,
	"aws:principalorgid": true, "aws:principalorgpaths": true, "aws:principalisawsservice": true,
	"aws:principalservicename": true, "aws:principalservicenameslist": true,
	"aws:username": true, "aws:userid": true, "aws:tokenissuetime": true, "aws:sourceidentity": true,
	"aws:multifactorauthpresent": true, "aws:multifactorauthage": true, "aws:federatedprovider": true,
	"aws:requestedregion": true, "aws:referer": true, "aws:useragent": true, "aws:tagkeys": true,
	"aws:calledvia": true, "aws:calledviafirst": true, "aws:calledvialast": true, "aws:viaawsservice": true,
	"aws:sourcearn": true, "aws:sourceaccount": true, "aws:sourceowner": true, "aws:sourceorgid": true,
	"aws:resourceaccount": true, "aws:resourceorgid": true, "aws:resourceorgpaths": true,
	"secretsmanager:secretid": true, "secretsmanager:name": true, "secretsmanager:description": true,
	"secretsmanager:kmskeyid": true, "secretsmanager:versionid": true, "secretsmanager:versionstage": true,
	"secretsmanager:recoverywindowindays": true, "secretsmanager:forcedeletewithoutrecovery": true,
	"secretsmanager:rotationlambdaarn": true, "secretsmanager:blockpublicpolicy": true,
	"secretsmanager:secretprimaryregion": true, "secretsmanager:addreplicaregions": true,
	"secretsmanager:modifyrotationrules": true, "secretsmanager:rotateimmediately": true,
	"sts:externalid": true, "sts:rolesessionname": true, "sts:sourceidentity": true,
	"sts:transitivetagkeys": true, "sts:durationseconds": true,
	"iam:policyarn": true, "iam:permissionsboundary": true, "iam:passedtoservice": true,
	"iam:associatedresourcearn": true, "iam:awsservicename": true,
}

// knownKeyPrefixes are tag-style key families ("aws:ResourceTag/<key>").
var knownKeyPrefixes = []string{
	"aws:resourcetag/", "aws:requesttag/", "aws:principaltag/",
	"secretsmanager:resourcetag/", "iam:resourcetag/", "sts:requesttag/",
}

// knownKey reports whether k (lower-case) is a known condition key.
func knownKey(k string) bool {
	if knownKeys[k] {
		return true
	}
	for _, p := range knownKeyPrefixes {
		if strings.HasPrefix(k, p) && len(k) > len(p) {
			return true
		}
	}
	return false
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
