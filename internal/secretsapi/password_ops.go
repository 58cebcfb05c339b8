package secretsapi

import (
	"context"

	"github.com/sqlgate/sqlgate/internal/secrets"
)

type getRandomPasswordInput struct {
	PasswordLength          *int64  `json:"PasswordLength"`
	ExcludeCharacters       *string `json:"ExcludeCharacters"`
	ExcludeNumbers          *bool   `json:"ExcludeNumbers"`
	ExcludePunctuation      *bool   `json:"ExcludePunctuation"`
	ExcludeUppercase        *bool   `json:"ExcludeUppercase"`
	ExcludeLowercase        *bool   `json:"ExcludeLowercase"`
	IncludeSpace            *bool   `json:"IncludeSpace"`
	RequireEachIncludedType *bool   `json:"RequireEachIncludedType"`
}

type getRandomPasswordOutput struct {
	RandomPassword string `json:"RandomPassword"`
}

// getRandomPassword generates a password (authorized on "*"; the action has
// no resource). Defaults as on AWS: 32 characters from letters, digits and
// punctuation, no space, at least one of each included type.
func (a *API) getRandomPassword(ctx context.Context, body []byte) (any, error) {
	var in getRandomPasswordInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v validation
	if in.PasswordLength != nil {
		n := int(*in.PasswordLength)
		if int64(n) != *in.PasswordLength {
			n = secrets.MaxPasswordLength + 1
		}
		v.rangeInt("passwordLength", &n, 1, secrets.MaxPasswordLength)
	}
	v.length("excludeCharacters", in.ExcludeCharacters, 0, 4096)
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := a.authorize(ctx, "GetRandomPassword", "*"); err != nil {
		return nil, err
	}
	spec := secrets.PasswordSpec{
		Length: secrets.DefaultPasswordLength, Exclude: str(in.ExcludeCharacters),
		NoNumbers: boolOr(in.ExcludeNumbers, false), NoPunctuation: boolOr(in.ExcludePunctuation, false),
		NoUppercase: boolOr(in.ExcludeUppercase, false), NoLowercase: boolOr(in.ExcludeLowercase, false),
		Space: boolOr(in.IncludeSpace, false), RequireEach: boolOr(in.RequireEachIncludedType, true),
	}
	if in.PasswordLength != nil {
		spec.Length = int(*in.PasswordLength)
	}
	pw, err := secrets.RandomPassword(spec)
	if err != nil {
		return nil, err
	}
	return getRandomPasswordOutput{RandomPassword: pw}, nil
}

// boolOr returns *p, or def when p is nil.
func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}
