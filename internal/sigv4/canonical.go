package sigv4

// Canonical request and string to sign, as specified in
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
// The canonical request is appended into one pooled buffer and hashed once,
// so a verification costs no per-header allocations.

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// emptySHA256 is the hex SHA-256 of no bytes, the payload hash of a presigned URL.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// errBadQuery means the query string could not be decoded for canonicalisation.
var errBadQuery = errors.New("malformed query string")

// signingInput is everything the signature covers.
type signingInput struct {
	method   string
	path     string // escaped path as the client sent it
	rawQuery string
	skip     string // query parameter left out (X-Amz-Signature when presigned)
	host     string
	header   http.Header // nil for presigned tokens
	length   int64       // request content length, -1 if unknown
	signed   []string    // lowercase signed header names
	payload  string      // hex SHA-256 of the body
	amzDate  string      // 20261124T073503Z
	date     string      // 20261124
	region   string
	service  string
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// signature returns the HMAC-SHA256 signature of in under key.
func (in *signingInput) signature(key []byte) ([sha256.Size]byte, error) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	b, err := in.appendCanonical((*bp)[:0])
	if err != nil {
		return [sha256.Size]byte{}, err
	}
	sum := sha256.Sum256(b)
	b = append(b[:0], Algorithm...)
	b = append(b, '\n')
	b = append(b, in.amzDate...)
	b = append(b, '\n')
	b = appendScope(b, in.date, in.region, in.service)
	b = append(b, '\n')
	b = hex.AppendEncode(b, sum[:])
	*bp = b
	return hmacSHA256(key, b), nil
}

func appendScope(b []byte, date, region, service string) []byte {
	b = append(b, date...)
	b = append(b, '/')
	b = append(b, region...)
	b = append(b, '/')
	b = append(b, service...)
	return append(b, "/"+scopeTerminator...)
}

// appendCanonical appends the canonical request to b.
func (in *signingInput) appendCanonical(b []byte) ([]byte, error) {
	b = append(b, in.method...)
	b = append(b, '\n')
	b = appendURI(b, in.path)
	b = append(b, '\n')
	b, err := appendQuery(b, in.rawQuery, in.skip)
	if err != nil {
		return b, err
	}
	b = append(b, '\n')
	for _, name := range in.signed {
		b = append(b, name...)
		b = append(b, ':')
		b = in.appendHeaderValue(b, name)
		b = append(b, '\n')
	}
	b = append(b, '\n')
	for i, name := range in.signed {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, name...)
	}
	b = append(b, '\n')
	return append(b, in.payload...), nil
}

// appendHeaderValue appends the canonical value of header name: values
// trimmed, runs of spaces collapsed, repeated headers joined with ','.
// Go's server moves Host (and may drop Content-Length) out of the header map.
func (in *signingInput) appendHeaderValue(b []byte, name string) []byte {
	switch name {
	case "host":
		return appendTrimmed(b, in.host)
	case "content-length":
		if _, ok := in.header["Content-Length"]; !ok && in.length >= 0 {
			return strconv.AppendInt(b, in.length, 10)
		}
	}
	key, ok := canonicalKeys[name]
	if !ok {
		key = textproto.CanonicalMIMEHeaderKey(name)
	}
	vs := in.header[key]
	if vs == nil {
		vs = in.header[name] // non-canonical key set by a hand-built request
	}
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendTrimmed(b, v)
	}
	return b
}

// canonicalKeys maps the header names SDKs sign to net/http's map keys,
// sparing CanonicalMIMEHeaderKey's allocation on every request.
var canonicalKeys = map[string]string{
	"amz-sdk-invocation-id": "Amz-Sdk-Invocation-Id",
	"amz-sdk-request":       "Amz-Sdk-Request",
	"content-length":        "Content-Length",
	"content-type":          "Content-Type",
	"date":                  "Date",
	"x-amz-content-sha256":  "X-Amz-Content-Sha256",
	"x-amz-date":            "X-Amz-Date",
	"x-amz-security-token":  "X-Amz-Security-Token",
	"x-amz-target":          "X-Amz-Target",
	"x-amz-user-agent":      "X-Amz-User-Agent",
}

func appendTrimmed(b []byte, v string) []byte {
	v = strings.Trim(v, " \t")
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			space = true
			continue
		}
		if space {
			b = append(b, ' ')
			space = false
		}
		b = append(b, c)
	}
	return b
}

// appendURI appends the canonical URI: the path as sent, encoded once more
// (every byte outside the unreserved set and '/'), as botocore and the Go
// SDK do for every service but S3. An empty path is "/".
func appendURI(b []byte, path string) []byte {
	if path == "" {
		return append(b, '/')
	}
	return appendEscaped(b, path, true)
}

const upperHex = "0123456789ABCDEF"

// appendEscaped appends s URI-encoded per RFC 3986 (uppercase hex).
func appendEscaped(b []byte, s string, keepSlash bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) || (keepSlash && c == '/') {
			b = append(b, c)
			continue
		}
		b = append(b, '%', upperHex[c>>4], upperHex[c&15])
	}
	return b
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// appendQuery appends the canonical query string: each name and value
// decoded ('+' is a space, as in url.ParseQuery), re-encoded per RFC 3986,
// sorted by name then value; parameter skip is left out.
func appendQuery(b []byte, raw, skip string) ([]byte, error) {
	if raw == "" {
		return b, nil
	}
	type pair struct{ k, v string }
	pairs := make([]pair, 0, strings.Count(raw, "&")+1)
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return b, errBadQuery
		}
		if k == skip {
			continue
		}
		pairs = append(pairs, pair{string(appendEscaped(nil, k, false)), string(appendEscaped(nil, v, false))})
	}
	slices.SortFunc(pairs, func(x, y pair) int {
		if c := strings.Compare(x.k, y.k); c != 0 {
			return c
		}
		return strings.Compare(x.v, y.v)
	})
	for i, p := range pairs {
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, p.k...)
		b = append(b, '=')
		b = append(b, p.v...)
	}
	return b, nil
}
