package rotation

import (
	"context"
	"fmt"
	"strings"

	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/secrets"
)

// PasswordChars are the characters of a rotated password: letters, digits
// and punctuation that needs no escaping inside a single-quoted SQL
// string on MariaDB/MySQL or PostgreSQL (no quotes, backslash, dollar,
// percent or space).
const PasswordChars = secrets.Lowercase + secrets.Uppercase + secrets.Digits + "!#()*+,-.:;<=>?@[]^_{|}~"

// excluded are the GetRandomPassword characters rotation never uses.
const excluded = "\"$%&'/\\`"

// NewPassword returns a 32-character rotated password for engine kind.
func NewPassword(kind string) (string, error) {
	_ = kind // one character set serves both engines
	return secrets.RandomPassword(secrets.PasswordSpec{Length: 32, Exclude: excluded, RequireEach: true})
}

// sqlString quotes s as a SQL string literal. Rotated passwords never
// contain a quote or backslash; quoting anyway keeps a bad value inert.
func sqlString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(s) + "'"
}

// set is the setSecret step: the pending password becomes valid on the
// database.
func (r *Rotator) set(ctx context.Context, eng engine.Engine, kind string, cur, pending *dbSecret) error {
	if cur.MasterARN != "" {
		return r.setAlternating(ctx, eng, kind, cur, pending)
	}
	c, err := eng.Connect(ctx, engine.Credentials{User: cur.Username, Password: cur.Password, Database: cur.DBName})
	if err != nil {
		return fmt.Errorf("log in as %s with the current password: %w", cur.Username, err)
	}
	defer c.Close()
	var stmt string
	switch kind {
	case "mysql":
		// SET PASSWORD needs no privilege for one's own account (ALTER
		// USER needs CREATE USER on MariaDB).
		stmt = "SET PASSWORD = PASSWORD(" + sqlString(pending.Password) + ")"
	default:
		stmt = "ALTER ROLE CURRENT_USER WITH PASSWORD " + sqlString(pending.Password)
	}
	if _, err := c.Exec(ctx, stmt, nil, 0); err != nil {
		return fmt.Errorf("change the password of %s: %w", cur.Username, redact(err, pending.Password))
	}
	return nil
}

// redact removes pw from a database error message.
func redact(err error, pw string) error {
	msg := err.Error()
	if pw == "" || !strings.Contains(msg, pw) {
		return err
	}
	return fmt.Errorf("%s", strings.ReplaceAll(msg, pw, "[REDACTED]"))
}

// otherUser flips between NAME and NAME_clone, as AWS's alternating-users
// rotation template does.
func otherUser(u string) string {
	if base, ok := strings.CutSuffix(u, "_clone"); ok {
		return base
	}
	return u + "_clone"
}
