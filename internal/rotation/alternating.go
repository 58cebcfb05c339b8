package rotation

import (
	"context"
	"fmt"
	"strings"

	"github.com/sqlgate/sqlgate/internal/engine"
)

// setAlternating logs in with the masterarn secret's credentials, creates
// the pending user if it does not exist yet (with the current user's
// privileges) and sets its password. The current user is not touched.
func (r *Rotator) setAlternating(ctx context.Context, eng engine.Engine, kind string, cur, pending *dbSecret) error {
	mv, err := r.store.GetValue(ctx, cur.MasterARN, "", "")
	if err != nil {
		return fmt.Errorf("read masterarn secret: %w", err)
	}
	master, _, err := r.parse(mv)
	if err != nil {
		return fmt.Errorf("masterarn secret: %w", err)
	}
	c, err := eng.Connect(ctx, engine.Credentials{User: master.Username, Password: master.Password, Database: cur.DBName})
	if err != nil {
		return fmt.Errorf("log in as master user %s: %w", master.Username, err)
	}
	defer c.Close()
	var stmts []string
	switch kind {
	case "mysql":
		stmts, err = mysqlClone(ctx, c, cur.Username, pending.Username, pending.Password)
	default:
		stmts, err = pgClone(ctx, c, cur.Username, pending.Username, pending.Password)
	}
	if err != nil {
		return err
	}
	for _, s := range stmts {
		if _, err := c.Exec(ctx, s, nil, 0); err != nil {
			return fmt.Errorf("set up user %s: %w", pending.Username, redact(err, pending.Password))
		}
	}
	return nil
}

// mysqlClone returns the statements that give user to the password pw and
// the privileges of from, creating it at from's host if needed.
func mysqlClone(ctx context.Context, c engine.Conn, from, to, pw string) ([]string, error) {
	res, err := c.Exec(ctx, "SELECT Host FROM mysql.user WHERE User = :u", []engine.Param{{Name: "u", Value: engine.String(from)}}, 0)
	if err != nil || len(res.Rows) == 0 {
		return nil, fmt.Errorf("find the host of user %s: %v", from, err)
	}
	host := res.Rows[0][0].String
	target := sqlString(to) + "@" + sqlString(host)
	stmts := []string{"CREATE USER IF NOT EXISTS " + target + " IDENTIFIED BY " + sqlString(pw),
		"ALTER USER " + target + " IDENTIFIED BY " + sqlString(pw)}
	grants, err := c.Exec(ctx, "SHOW GRANTS FOR "+sqlString(from)+"@"+sqlString(host), nil, 0)
	if err != nil {
		return nil, fmt.Errorf("read the grants of %s: %w", from, err)
	}
	src := "TO " + "`" + from + "`@`" + host + "`"
	for _, row := range grants.Rows {
		g := row[0].String
		if !strings.HasPrefix(g, "GRANT ") || !strings.Contains(g, src) {
			continue
		}
		g = strings.Replace(g, src, "TO "+target, 1)
		if i := strings.Index(g, " IDENTIFIED BY"); i >= 0 {
			g = g[:i]
		}
		stmts = append(stmts, g)
	}
	return stmts, nil
}

// pgClone returns the statements that give role to the password pw and
// membership of from's base role, creating it if needed.
func pgClone(ctx context.Context, c engine.Conn, from, to, pw string) ([]string, error) {
	res, err := c.Exec(ctx, "SELECT 1 FROM pg_roles WHERE rolname = :u", []engine.Param{{Name: "u", Value: engine.String(to)}}, 0)
	if err != nil {
		return nil, fmt.Errorf("look up role %s: %w", to, err)
	}
	if len(res.Rows) > 0 {
		return []string{"ALTER ROLE " + pgIdent(to) + " WITH LOGIN PASSWORD " + sqlString(pw)}, nil
	}
	base := strings.TrimSuffix(from, "_clone")
	return []string{"CREATE ROLE " + pgIdent(to) + " WITH LOGIN PASSWORD " + sqlString(pw) + " IN ROLE " + pgIdent(base)}, nil
}

func pgIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
