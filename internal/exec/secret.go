package exec

import (
	"encoding/json"
	"errors"

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

// ParseSecret reads a secret's JSON. username and password must be
// present as strings (the password may be empty).
func ParseSecret(value string) (Secret, error) {
	var s struct {
		Username *string `json:"username"`
		Password *string `json:"password"`
		DBName   string  `json:"dbname"`
	}
	if err := json.Unmarshal([]byte(value), &s); err != nil || s.Username == nil || s.Password == nil {
		return Secret{}, ErrInvalidSecret
	}
	return Secret{Username: *s.Username, Password: *s.Password, DBName: s.DBName}, nil
}

// Credentials returns the login for database (empty: the cluster default,
// applied by Cluster.Open).
func (s Secret) Credentials(database string) engine.Credentials {
	return engine.Credentials{User: s.Username, Password: s.Password, Database: database}
}
