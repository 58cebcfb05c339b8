package admin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/engines"
	sqlexec "github.com/sqlgate/sqlgate/internal/exec"
	"github.com/sqlgate/sqlgate/internal/secrets"
)

// readOnlySecret makes `connect --readonly` real at the database: a
// database user that may only SELECT, created (idempotently) with the
// cluster secret's administrative login, and a secret holding its
// credentials. The function's policy then names that secret, so even a
// leaked key cannot write. It returns the new secret's ARN.
func (a *Admin) readOnlySecret(ctx context.Context, cl *config.Cluster, adminSecretID, function string) (string, error) {
	if cl.Engine == "sqlite" {
		return "", fmt.Errorf("--readonly needs a mysql or postgres cluster: SQLite has no database users")
	}
	if cl.Database == "" {
		return "", fmt.Errorf("--readonly needs clusters[].database for cluster %s: the user is granted SELECT on that database", cl.Name)
	}
	name := ConnectUser(function) + "-readonly"
	dbUser := dbUserName(function)
	password, err := a.readOnlyPassword(ctx, name)
	if err != nil {
		return "", err
	}
	adminCreds, err := a.secretCreds(ctx, adminSecretID)
	if err != nil {
		return "", err
	}
	adminCreds.Database = cl.Database
	if err := grantSelect(ctx, a.cfg, *cl, adminCreds, dbUser, password); err != nil {
		return "", err
	}
	value, _ := json.Marshal(map[string]any{"username": dbUser, "password": password, "engine": cl.Engine, "dbname": cl.Database})
	str := string(value)
	if _, err := a.secrets.PutValue(ctx, secrets.PutInput{SecretID: name, Value: secrets.Payload{SecretString: &str}}); errors.Is(err, secrets.ErrNotFound) {
		_, err = a.secrets.Create(ctx, secrets.CreateInput{Name: name, Description: "Read-only login of function " + function, Value: &secrets.Payload{SecretString: &str}})
		if err != nil {
			return "", err
		}
	} else if err != nil {
		return "", err
	}
	d, err := a.secrets.Describe(ctx, name)
	if err != nil {
		return "", err
	}
	return d.ARN, nil
}

// readOnlyPassword keeps the password of an existing read-only secret, so
// running connect again does not break a deployed function.
func (a *Admin) readOnlyPassword(ctx context.Context, name string) (string, error) {
	if c, err := a.secretCreds(ctx, name); err == nil {
		return c.Password, nil
	} else if !errors.Is(err, secrets.ErrNotFound) {
		return "", err
	}
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (a *Admin) secretCreds(ctx context.Context, id string) (engine.Credentials, error) {
	v, err := a.secrets.GetValue(ctx, id, "", "")
	if err != nil {
		return engine.Credentials{}, err
	}
	if v.SecretString == nil {
		return engine.Credentials{}, fmt.Errorf("secret %s has no username and password", id)
	}
	s, err := sqlexec.ParseSecret(*v.SecretString)
	if err != nil || s.Username == "" {
		return engine.Credentials{}, fmt.Errorf("secret %s has no username and password", id)
	}
	return s.Credentials(""), nil
}

var unsafeIdent = regexp.MustCompile(`[^a-z0-9_]`)

// dbUserName is fn_<function>_ro, lower-case, safe to quote anywhere.
func dbUserName(function string) string {
	n := "fn_" + unsafeIdent.ReplaceAllString(strings.ToLower(function), "_") + "_ro"
	if len(n) > 32 { // MySQL's user-name limit
		n = n[:32]
	}
	return n
}

// grantSelect creates or updates the database user and grants SELECT.
// Identifiers and the password are generated from [a-z0-9_-] only, so
// quoting them is safe (DDL cannot take bind parameters).
func grantSelect(ctx context.Context, cfg *config.Config, cl config.Cluster, admin engine.Credentials, user, password string) error {
	eng, _, err := engines.Open(cfg, cl)
	if err != nil {
		return err
	}
	defer eng.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := eng.Connect(ctx, admin)
	if err != nil {
		return fmt.Errorf("connect to %s as the cluster secret's user: %w", cl.Name, err)
	}
	defer conn.Close()
	db := unsafeIdent.ReplaceAllString(cl.Database, "")
	if db != cl.Database {
		return fmt.Errorf("database name %q: use letters, digits and _ for --readonly", cl.Database)
	}
	var stmts []string
	switch cl.Engine {
	case "mysql":
		stmts = []string{
			fmt.Sprintf("CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY '%s'", user, password),
			fmt.Sprintf("ALTER USER '%s'@'%%' IDENTIFIED BY '%s'", user, password),
			fmt.Sprintf("GRANT SELECT ON `%s`.* TO '%s'@'%%'", db, user),
		}
	case "postgres":
		stmts = []string{
			fmt.Sprintf(`DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '%s') THEN CREATE ROLE "%s" LOGIN; END IF; END $$`, user, user),
			fmt.Sprintf(`ALTER ROLE "%s" LOGIN PASSWORD '%s'`, user, password),
			fmt.Sprintf(`GRANT CONNECT ON DATABASE "%s" TO "%s"`, db, user),
			fmt.Sprintf(`GRANT USAGE ON SCHEMA public TO "%s"`, user),
			fmt.Sprintf(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO "%s"`, user),
			fmt.Sprintf(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO "%s"`, user),
		}
	}
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s, nil, 0); err != nil {
			return fmt.Errorf("create read-only user %s: %w", user, err)
		}
	}
	return nil
}
