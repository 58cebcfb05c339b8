package iam

import (
	"encoding/json"
	"strings"
)

// principalSet is a compiled Principal / NotPrincipal element.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
//
// Supported forms: "*", {"AWS": "*" | account ID | IAM/STS ARN | list},
// {"Service": "lambda.amazonaws.com" | list}, {"Federated": OIDC provider
// ARN | list} (web identities, AssumeRoleWithWebIdentity). "CanonicalUser"
// is accepted but never matches.
type principalSet struct {
	any      bool
	accounts []string // 12-digit account IDs (also from "arn:…:iam::ID:root")
	arns     []string // exact principal ARNs
	services []string // lower-cased service principal names
	// federated are identity provider ARNs.
	federated []string
}

func compilePrincipals(raw json.RawMessage, path string) (*principalSet, error) {
	var star string
	if json.Unmarshal(raw, &star) == nil {
		if star != "*" {
			return nil, parseErr(path, "must be \"*\" or an object such as {\"AWS\": …}")
		}
		return &principalSet{any: true}, nil
	}
	members, err := decodeObject(raw, path)
	if err != nil {
		return nil, err
	}
	if len(members) == 0 {
		return nil, parseErr(path, "must not be empty")
	}
	ps := &principalSet{}
	for _, m := range members {
		ep := path + "." + m.name
		list, err := decodeStrings(m.val, ep)
		if err != nil {
			return nil, err
		}
		switch m.name {
		case "AWS":
			for _, v := range list {
				if err := ps.addAWS(v, ep); err != nil {
					return nil, err
				}
			}
		case "Service":
			for _, v := range list {
				if v == "" || hasWildcard(v) {
					return nil, parseErr(ep, "invalid service principal %q", v)
				}
				ps.services = append(ps.services, strings.ToLower(v))
			}
		case "Federated":
			for _, v := range list {
				if v == "" || hasWildcard(v) {
					return nil, parseErr(ep, "invalid federated principal %q", v)
				}
				ps.federated = append(ps.federated, v)
			}
		case "CanonicalUser":
			// Valid, but sqlgate has no S3 canonical users: never matches.
		default:
			return nil, parseErr(path, "unknown principal type %q", m.name)
		}
	}
	return ps, nil
}

func (ps *principalSet) addAWS(v, path string) error {
	switch {
	case v == "*":
		ps.any = true
	case isAccountID(v):
		ps.accounts = append(ps.accounts, v)
	case strings.HasPrefix(v, "arn:") && !hasWildcard(v) && strings.Count(v, ":") >= 5:
		if strings.HasSuffix(v, ":root") && isAccountID(accountOf(v)) {
			ps.accounts = append(ps.accounts, accountOf(v)) // the whole account
			return nil
		}
		ps.arns = append(ps.arns, v)
	default:
		// AWS allows wildcards in the AWS principal only as the whole "*".
		return parseErr(path, "invalid AWS principal %q: want \"*\", an account ID or an ARN without wildcards", v)
	}
	return nil
}

// match reports whether p is named by the set. A nil principal
// (anonymous) matches only "*".
func (ps *principalSet) match(p *Principal) bool {
	if ps.any {
		return true
	}
	if p == nil {
		return false
	}
	if p.Federated != "" {
		for _, f := range ps.federated {
			if f == p.Federated {
				return true
			}
		}
		return false
	}
	if p.Service != "" {
		for _, s := range ps.services {
			if strings.EqualFold(s, p.Service) {
				return true
			}
		}
		return false
	}
	acct := accountOf(p.ARN)
	for _, a := range ps.accounts {
		if a == acct {
			return true
		}
	}
	role := principalARN(p)
	for _, a := range ps.arns {
		if a == p.ARN || a == role {
			return true
		}
	}
	return false
}

// isAccountID reports whether s is a 12-digit AWS account ID.
func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// accountOf returns the account field of an ARN ("" if arn is not one).
func accountOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	return parts[4]
}

// principalARN is the value of aws:PrincipalArn for p: the principal's ARN,
// except that for an assumed-role session it is the role's ARN.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn
func principalARN(p *Principal) string {
	if p == nil {
		return ""
	}
	if p.RoleARN != "" {
		return p.RoleARN
	}
	// arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION → arn:aws:iam::ACCOUNT:role/NAME
	parts := strings.SplitN(p.ARN, ":", 6)
	if len(parts) == 6 && parts[2] == "sts" {
		if rest, ok := strings.CutPrefix(parts[5], "assumed-role/"); ok {
			if name, _, ok := strings.Cut(rest, "/"); ok {
				return parts[0] + ":" + parts[1] + ":iam::" + parts[4] + ":role/" + name
			}
		}
	}
	return p.ARN
}
