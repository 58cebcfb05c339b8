package sigv4

import (
	"strings"
)

// Algorithm is the only signing algorithm sqlgate accepts (no SigV4a).
const Algorithm = "AWS4-HMAC-SHA256"

const scopeTerminator = "aws4_request"

// maxSignedHeaders bounds the SignedHeaders list so a hostile header cannot
// make the verifier allocate without limit.
const maxSignedHeaders = 64

// Authorization is a parsed "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
// Signature=..." header. Date is the credential scope's YYYYMMDD.
type Authorization struct {
	AccessKeyID, Date, Region, Service string
	// SignedHeaders are the lowercase header names, in the order the client sent.
	SignedHeaders []string
	// Signature is the lowercase hex HMAC-SHA256 the client computed.
	Signature string
}

// ParseAuthorization parses an Authorization header value. Errors are
// *Error with Code IncompleteSignatureException; the message never echoes
// the header, which may carry a foreign bearer token.
func ParseAuthorization(h string) (*Authorization, error) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if alg != Algorithm {
		// Only a SigV4-family name is echoed, never a foreign scheme's token.
		if strings.HasPrefix(alg, "AWS4-") && len(alg) <= 32 && isToken(alg) {
			return nil, errIncomplete("Unsupported AWS 'algorithm': '" + alg + "'.")
		}
		return nil, errIncomplete(missingParams("Credential", "Signature", "SignedHeaders"))
	}
	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, errBadPair(h)
		}
		switch k {
		case "Credential":
			cred, haveCred = v, true
		case "SignedHeaders":
			signed, haveSigned = v, true
		case "Signature":
			sig, haveSig = v, true
		}
	}
	if err := requireParams(haveCred, haveSig, haveSigned); err != nil {
		return nil, err
	}
	a := &Authorization{Signature: sig}
	if err := a.parseCredential(cred); err != nil {
		return nil, err
	}
	hs, err := parseSignedHeaders(signed)
	if err != nil {
		return nil, err
	}
	a.SignedHeaders = hs
	if !isHexSignature(sig) {
		return nil, errIncomplete("Signature must be 64 lowercase hexadecimal characters.")
	}
	return a, nil
}

func requireParams(cred, sig, signed bool) error {
	var missing []string
	if !cred {
		missing = append(missing, "Credential")
	}
	if !sig {
		missing = append(missing, "Signature")
	}
	if !signed {
		missing = append(missing, "SignedHeaders")
	}
	if len(missing) > 0 {
		return errIncomplete(missingParams(missing...))
	}
	return nil
}

// parseCredential splits "AKID/20261124/us-east-1/rds-data/aws4_request".
// Access key ids never contain '/', so a plain split is exact.
func (a *Authorization) parseCredential(cred string) error {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return errIncomplete("Credential must have exactly 5 slash-delimited elements, " +
			"e.g. keyid/date/region/service/term.")
	}
	a.AccessKeyID, a.Date, a.Region, a.Service = parts[0], parts[1], parts[2], parts[3]
	switch {
	case a.AccessKeyID == "":
		return errIncomplete("Credential must contain an access key id.")
	case !isScopeDate(a.Date):
		return errIncomplete("Credential should be scoped to a valid date in YYYYMMDD form.")
	case a.Region == "" || !isToken(a.Region):
		return errIncomplete("Credential should be scoped to a valid region.")
	case a.Service == "" || !isToken(a.Service):
		return errIncomplete("Credential should be scoped to correct service.")
	case parts[4] != scopeTerminator:
		return errIncomplete("Credential should be scoped with a valid terminator: 'aws4_request'.")
	}
	return nil
}

// parseSignedHeaders splits "content-type;host;x-amz-date". Names must be
// lowercase and 'host' must be among them: without it a signature could be
// replayed against another endpoint.
func parseSignedHeaders(s string) ([]string, error) {
	if s == "" {
		return nil, errIncomplete(missingParams("SignedHeaders"))
	}
	n := strings.Count(s, ";") + 1
	if n > maxSignedHeaders {
		return nil, errIncomplete("Authorization header signs too many headers.")
	}
	hs := make([]string, 0, n)
	host := false
	for name := range strings.SplitSeq(s, ";") {
		if name == "" || !isToken(name) || strings.ToLower(name) != name {
			return nil, errIncomplete("SignedHeaders must be lowercase header names separated by ';'.")
		}
		host = host || name == "host"
		hs = append(hs, name)
	}
	if !host {
		return nil, errIncomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	return hs, nil
}

func isScopeDate(s string) bool {
	if len(s) != 8 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isHexSignature(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// isToken reports whether s holds only printable ASCII without separators
// used by the header grammar, which is all a region, service or header name needs.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == ',' || c == ';' || c == '/' || c == '=' {
			return false
		}
	}
	return true
}
