// Package admin implements sqlgate's offline administration commands
// (users, keys, policies, secrets, clusters, connect): they open the data
// dir directly, without a running server, and refuse while another process
// holds it.
package admin

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sqlgate/sqlgate/internal/arn"
	"github.com/sqlgate/sqlgate/internal/barrier"
	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/identity"
	"github.com/sqlgate/sqlgate/internal/secrets"
	"github.com/sqlgate/sqlgate/internal/state"
)

// Admin is an open data dir.
type Admin struct {
	cfg     *config.Config
	out     io.Writer
	unlock  func()
	st      state.Store
	ids     *identity.Store
	secrets *secrets.Store
}

// Open locks cfg.DataDir and opens its stores.
func Open(cfg *config.Config, out io.Writer) (*Admin, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	unlock, err := state.LockDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := state.Open(ctx, cfg.State.Driver, cfg.State.DSN, cfg.DataDir)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("open state store: %w", err)
	}
	b, err := barrier.LoadOrCreateKey(cfg.DataDir)
	if err != nil {
		_ = st.Close()
		unlock()
		return nil, fmt.Errorf("load master key: %w", err)
	}
	a := &Admin{cfg: cfg, out: out, unlock: unlock, st: st,
		ids:     identity.New(st, b, cfg.AccountID),
		secrets: secrets.New(st, b, secrets.Options{Region: cfg.Region, Account: cfg.AccountID})}
	if cfg.HasDefaultSQLite() {
		if _, err := a.secrets.EnsureDefault(context.Background()); err != nil {
			a.Close()
			return nil, fmt.Errorf("create default secret: %w", err)
		}
	}
	return a, nil
}

// Close waits for the identity store's last-use writes (they run off the
// request path), then closes the state store and releases the data dir.
func (a *Admin) Close() {
	a.ids.Wait()
	_ = a.st.Close()
	a.unlock()
}

// ClustersList prints the configured clusters (no store needed).
func ClustersList(cfg *config.Config, out io.Writer) {
	fmt.Fprintf(out, "%-16s %-9s %-24s %-8s %s\n", "NAME", "ENGINE", "ADDRESS", "DATA_API", "ARN")
	for _, c := range cfg.Clusters {
		addr := c.Address
		if c.Engine == "sqlite" {
			addr = cfg.SQLitePath(c)
		}
		fmt.Fprintf(out, "%-16s %-9s %-24s %-8v %s\n", c.Name, c.Engine, addr, c.DataAPIEnabled(),
			arn.Cluster(cfg.Region, cfg.AccountID, c.Name))
	}
}

// UsersCreate creates a user.
func (a *Admin) UsersCreate(ctx context.Context, name string) error {
	u, err := a.ids.CreateUser(ctx, name, "")
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "created user %s (%s)\n", u.UserName, u.ARN)
	return nil
}

// UsersList prints every user.
func (a *Admin) UsersList(ctx context.Context) error {
	users, err := a.ids.ListUsers(ctx, "")
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "%-24s %-22s %s\n", "NAME", "ID", "ARN")
	for _, u := range users {
		fmt.Fprintf(a.out, "%-24s %-22s %s\n", u.UserName, u.UserID, u.ARN)
	}
	return nil
}

// UsersDelete deletes a user with its keys and policies.
func (a *Admin) UsersDelete(ctx context.Context, name string) error {
	keys, err := a.ids.ListAccessKeys(ctx, name)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := a.ids.DeleteAccessKey(ctx, name, k.AccessKeyID); err != nil {
			return err
		}
	}
	u, err := a.ids.GetUser(ctx, name)
	if err != nil {
		return err
	}
	for p := range u.InlinePolicies {
		if err := a.ids.DeleteUserPolicy(ctx, name, p); err != nil {
			return err
		}
	}
	for _, p := range u.AttachedPolicies {
		if err := a.ids.DetachUserPolicy(ctx, name, p); err != nil {
			return err
		}
	}
	if err := a.ids.DeleteUser(ctx, name); err != nil {
		return err
	}
	fmt.Fprintf(a.out, "deleted user %s\n", name)
	return nil
}

// KeysCreate creates an access key and prints the secret once.
func (a *Admin) KeysCreate(ctx context.Context, user string) error {
	k, creds, err := a.ids.CreateAccessKey(ctx, user)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n# shown only now; user %s\n", k.AccessKeyID, creds.SecretAccessKey, user)
	return nil
}

// KeysList prints a user's keys.
func (a *Admin) KeysList(ctx context.Context, user string) error {
	keys, err := a.ids.ListAccessKeys(ctx, user)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "%-22s %-9s %-20s %s\n", "ACCESS_KEY_ID", "STATUS", "CREATED", "LAST_USED")
	for _, k := range keys {
		last := "never"
		if !k.LastUsed.IsZero() {
			last = k.LastUsed.Format("2006-01-02T15:04:05Z")
		}
		fmt.Fprintf(a.out, "%-22s %-9s %-20s %s\n", k.AccessKeyID, k.Status, k.CreateDate.Format("2006-01-02T15:04:05Z"), last)
	}
	return nil
}

// KeysDelete deletes an access key.
func (a *Admin) KeysDelete(ctx context.Context, user, akid string) error {
	if err := a.ids.DeleteAccessKey(ctx, user, akid); err != nil {
		return err
	}
	fmt.Fprintf(a.out, "deleted access key %s of %s\n", akid, user)
	return nil
}
