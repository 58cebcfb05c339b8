package secretsapi

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode"

	"github.com/sqlgate/sqlgate/internal/awserr"
	"github.com/sqlgate/sqlgate/internal/secrets"
)

var filterKeys = []string{"description", "name", "tag-key", "tag-value", "primary-region", "owning-service", "all"}

func (a *API) listSecrets(ctx context.Context, body []byte) (any, error) {
	var in listSecretsInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := validateList(&in); err != nil {
		return nil, err
	}
	if err := a.authorize(ctx, "ListSecrets", "*"); err != nil {
		return nil, err
	}
	all, err := a.store.List(ctx, in.IncludePlannedDeletion != nil && *in.IncludePlannedDeletion)
	if err != nil {
		return nil, err
	}
	all = slices.DeleteFunc(all, func(s *secrets.Secret) bool { return !matchFilters(s, in.Filters) })
	sortSecrets(all, str(in.SortBy), str(in.SortOrder))

	scope, _ := json.Marshal([]any{in.Filters, in.SortBy, in.SortOrder, in.IncludePlannedDeletion})
	page, next, err := paginate(all, in.MaxResults, in.NextToken, "secrets:"+string(scope))
	if err != nil {
		return nil, err
	}
	out := listSecretsOutput{SecretList: make([]secretListEntry, 0, len(page)), NextToken: next}
	for _, s := range page {
		d := describe(s)
		out.SecretList = append(out.SecretList, secretListEntry{secretHead: d.secretHead,
			SecretVersionsToStages: d.VersionIDsToStages, CreatedDate: d.CreatedDate, rotationState: d.rotationState})
	}
	return out, nil
}

func validateList(in *listSecretsInput) error {
	var v validation
	v.rangeInt("maxResults", in.MaxResults, 1, 100)
	v.length("nextToken", in.NextToken, 1, 4096)
	for i, f := range in.Filters {
		m := fmt.Sprintf("filters.%d.member", i+1)
		if f.Key != nil && !slices.Contains(filterKeys, *f.Key) {
			v.add("Value at '" + m + ".key' failed to satisfy constraint: Member must satisfy enum value set: [" + strings.Join(filterKeys, ", ") + "]")
		}
		if f.Values != nil {
			v.lengthN(m+".values", len(f.Values), 1, 10)
		}
		for _, val := range f.Values {
			v.length(m+".values.member", &val, 0, 512)
		}
	}
	if o := in.SortOrder; o != nil && *o != "asc" && *o != "desc" {
		v.add("Value at 'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: [asc, desc]")
	}
	if b := in.SortBy; b != nil && !slices.Contains([]string{"created-date", "last-accessed-date", "last-changed-date", "name"}, *b) {
		v.add("Value at 'sortBy' failed to satisfy constraint: Member must satisfy enum value set: [created-date, last-accessed-date, last-changed-date, name]")
	}
	return v.err()
}

// sortSecrets orders by sortBy (default created-date), ascending unless
// order is "desc"; ties break on name so pages are stable.
func sortSecrets(ss []*secrets.Secret, by, order string) {
	slices.SortStableFunc(ss, func(x, y *secrets.Secret) int {
		var c int
		switch by {
		case "name":
			c = strings.Compare(x.Name, y.Name)
		case "last-accessed-date":
			c = x.LastAccessed.Compare(y.LastAccessed)
		case "last-changed-date":
			c = x.LastChanged.Compare(y.LastChanged)
		default:
			c = x.Created.Compare(y.Created)
		}
		if order == "desc" {
			c = -c
		}
		return cmp.Or(c, strings.Compare(x.Name, y.Name))
	})
}

// matchFilters applies ListSecrets filters: every filter must match (AND);
// within a filter any positive value may match (OR) and no "!"-negated
// value may. https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_Filter.html
func matchFilters(s *secrets.Secret, filters []filter) bool {
	for _, f := range filters {
		key := str(f.Key)
		var pos, hit bool
		for _, val := range f.Values {
			neg := strings.HasPrefix(val, "!")
			if neg {
				val = val[1:]
			} else {
				pos = true
			}
			m := matchValue(s, key, val)
			if neg && m {
				return false
			}
			hit = hit || (!neg && m)
		}
		if pos && !hit {
			return false
		}
	}
	return true
}

func matchValue(s *secrets.Secret, key, val string) bool {
	switch key {
	case "name":
		return strings.HasPrefix(s.Name, val)
	case "description":
		return strings.HasPrefix(strings.ToLower(s.Description), strings.ToLower(val))
	case "tag-key":
		return slices.ContainsFunc(s.Tags, func(t secrets.Tag) bool { return strings.HasPrefix(t.Key, val) })
	case "tag-value":
		return slices.ContainsFunc(s.Tags, func(t secrets.Tag) bool { return strings.HasPrefix(t.Value, val) })
	case "all":
		return matchAll(s, val)
	}
	return false // primary-region, owning-service: sqlgate secrets have neither
}

// matchAll splits val into words and reports whether any word starts a word
// of the name, description, tag keys or tag values, ignoring case.
func matchAll(s *secrets.Secret, val string) bool {
	attrs := []string{s.Name, s.Description}
	for _, t := range s.Tags {
		attrs = append(attrs, t.Key, t.Value)
	}
	var have []string
	for _, a := range attrs {
		have = append(have, words(a)...)
	}
	for _, w := range words(val) {
		if slices.ContainsFunc(have, func(h string) bool { return strings.HasPrefix(h, w) }) {
			return true
		}
	}
	return false
}

// words splits s at punctuation, letter/digit changes and lower→upper case
// changes, lowercased: "credsDatabase#892" → creds, database, 892.
func words(s string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	var prev rune
	for _, r := range s {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
		case len(cur) > 0 && (unicode.IsDigit(r) != unicode.IsDigit(prev) || unicode.IsUpper(r) && unicode.IsLower(prev)):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
		prev = r
	}
	flush()
	return out
}

// pageToken is the decoded NextToken: an offset into the sorted result,
// bound to the request's scope (filters, sort) so it cannot be replayed
// against a different listing.
type pageToken struct {
	Offset int    `json:"o"`
	Scope  string `json:"s"`
}

func scopeHash(scope string) string {
	h := sha256.Sum256([]byte(scope))
	return hex.EncodeToString(h[:8])
}

// paginate returns the page of items that token (nil: first page) and
// maxResults (nil: 100) select, and the token of the next page.
func paginate[T any](items []T, maxResults *int, token *string, scope string) ([]T, string, error) {
	limit := 100
	if maxResults != nil {
		limit = *maxResults
	}
	off := 0
	if token != nil {
		raw, err := base64.RawURLEncoding.DecodeString(*token)
		var t pageToken
		if err == nil {
			err = json.Unmarshal(raw, &t)
		}
		if err != nil || t.Scope != scopeHash(scope) || t.Offset < 0 || t.Offset > len(items) {
			return nil, "", awserr.New("InvalidNextTokenException", http.StatusBadRequest, msgBadNextToken)
		}
		off = t.Offset
	}
	end := min(off+limit, len(items))
	next := ""
	if end < len(items) {
		b, _ := json.Marshal(pageToken{Offset: end, Scope: scopeHash(scope)})
		next = base64.RawURLEncoding.EncodeToString(b)
	}
	return items[off:end], next, nil
}
