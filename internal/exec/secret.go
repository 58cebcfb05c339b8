package exec

import (
	"encoding/json"
	"errors"
	"sync"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// ErrInvalidSecret is returned by ParseSecret for a value that is not an
// RDS-style credentials secret.
var ErrInvalidSecret = errors.New("the secret must be a JSON object with username and password fields")

// Secret is the part of an RDS-style credentials secret
// ({"username":…,"password":…,"dbname":…,"engine":…}) sqlgate uses.
type Secret struct {
	Username string
	Password string
	DBName   string // optional default database
}

// ParseSecret reads a secret's JSON: the one parser of database
// credentials for every door (Data API, SQL endpoints, proxies). username
// must be a non-empty string and password a string (it may be empty).
func ParseSecret(value string) (Secret, error) {
	var s struct {
		Username *string `json:"username"`
		Password *string `json:"password"`
		DBName   string  `json:"dbname"`
	}
	if err := json.Unmarshal([]byte(value), &s); err != nil || s.Username == nil || *s.Username == "" || s.Password == nil {
		return Secret{}, ErrInvalidSecret
	}
	return Secret{Username: *s.Username, Password: *s.Password, DBName: s.DBName}, nil
}

// Credentials returns the login for database (empty: the cluster default,
// applied by Cluster.Open).
func (s Secret) Credentials(database string) engine.Credentials {
	return engine.Credentials{User: s.Username, Password: s.Password, Database: database}
}

// CredentialsOf is Credentials naming the secret's ARN, so that
// Cluster.Open can retry a refused login with the secret's other version
// while it rotates.
func (s Secret) CredentialsOf(arn, database string) engine.Credentials {
	c := s.Credentials(database)
	c.Secret = arn
	return c
}

// maxCachedSecrets bounds SecretCache; when full it is emptied.
const maxCachedSecrets = 1024

// SecretCache memoises ParseSecret per secret, so a call does not decode
// the same JSON again. Each secret (by ARN) keeps the value it was parsed
// from, and a hit needs the value to be equal: a new version
// (PutSecretValue, a rotation, a change on another node) is parsed anew
// and replaces the old entry, so nothing needs invalidating and no
// superseded password stays cached. The zero value is ready to use.
type SecretCache struct {
	mu sync.RWMutex // guards following fields
	m  map[string]cachedSecret
}

type cachedSecret struct {
	value  string
	secret Secret
}

// Parse is ParseSecret of value, the current value of the secret arn,
// through the cache (invalid values are not cached).
func (c *SecretCache) Parse(arn, value string) (Secret, error) {
	c.mu.RLock()
	e, ok := c.m[arn]
	c.mu.RUnlock()
	if ok && e.value == value {
		return e.secret, nil
	}
	s, err := ParseSecret(value)
	if err != nil {
		return s, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedSecrets {
		c.m = make(map[string]cachedSecret)
	}
	c.m[arn] = cachedSecret{value: value, secret: s}
	c.mu.Unlock()
	return s, nil
}
