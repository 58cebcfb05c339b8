package secrets

import (
	"crypto/rand"
	"math/big"
	"strings"
)

// Character classes of GetRandomPassword, as Secrets Manager defines them.
const (
	Lowercase   = "abcdefghijklmnopqrstuvwxyz"
	Uppercase   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	Digits      = "0123456789"
	Punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
)

// Password length bounds and default.
const (
	DefaultPasswordLength = 32
	MaxPasswordLength     = 4096
)

// PasswordSpec is the input of RandomPassword; the zero value (plus
// Length) is AWS's default: every class, no space, each class required.
type PasswordSpec struct {
	Length                                                    int
	Exclude                                                   string // ExcludeCharacters
	NoNumbers, NoPunctuation, NoUppercase, NoLowercase, Space bool
	RequireEach                                               bool
}

// RandomPassword returns a password drawn uniformly (crypto/rand) from the
// classes spec allows, containing at least one character of each class
// when spec.RequireEach. Errors are *ParamError.
func RandomPassword(spec PasswordSpec) (string, error) {
	if spec.Length < 1 || spec.Length > MaxPasswordLength {
		return "", &ParamError{Msg: "Password length must be between 1 and 4096."}
	}
	var classes []string
	add := func(skip bool, set string) {
		if skip {
			return
		}
		if c := without(set, spec.Exclude); c != "" {
			classes = append(classes, c)
		}
	}
	add(spec.NoLowercase, Lowercase)
	add(spec.NoUppercase, Uppercase)
	add(spec.NoNumbers, Digits)
	add(spec.NoPunctuation, Punctuation)
	add(!spec.Space, " ")
	if len(classes) == 0 {
		return "", &ParamError{Msg: "The password can't be generated because every character type is excluded."}
	}
	if spec.RequireEach && spec.Length < len(classes) {
		return "", &ParamError{Msg: "The password length is too short to include every required character type."}
	}
	all := strings.Join(classes, "")
	out := make([]byte, spec.Length)
	for i := range out {
		out[i] = all[randInt(len(all))]
	}
	if spec.RequireEach {
		// One character of each class at distinct random positions: the
		// rest stays uniform over all allowed characters.
		pos := randPerm(len(out))
		for i, c := range classes {
			out[pos[i]] = c[randInt(len(c))]
		}
	}
	return string(out), nil
}

// randPerm is a uniformly random permutation of 0..n-1 (Fisher-Yates).
func randPerm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := randInt(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}

func without(set, exclude string) string {
	if exclude == "" {
		return set
	}
	var b strings.Builder
	for i := 0; i < len(set); i++ {
		if !strings.ContainsRune(exclude, rune(set[i])) {
			b.WriteByte(set[i])
		}
	}
	return b.String()
}

func randInt(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return int(v.Int64())
}
