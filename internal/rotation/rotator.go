// Package rotation rotates database secrets without a rotation function:
// sqlgate runs Secrets Manager's four steps itself (createSecret,
// setSecret, testSecret, finishSecret) for a secret whose JSON names its
// database as RDS writes it (engine, host, port, username, password,
// dbname, dbClusterIdentifier naming a sqlgate cluster).
//
// Strategies: single user (the secret's own user changes its password
// with ALTER USER) and alternating users (the secret names a masterarn
// secret whose user alters the other of username / username_clone, which
// the secret then switches to). From the moment the set step succeeds,
// secrets.Store.LiveValue answers the AWSPENDING value, so pools open new
// connections with it; the old value stays acceptable to the proxies'
// client logins (secrets.Store.GraceValue) for a grace window.
//
// On several nodes sharing a state store exactly one rotates: the holder
// of a lease in the store.
package rotation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sqlgate/sqlgate/internal/engine"
	"github.com/sqlgate/sqlgate/internal/secrets"
	"github.com/sqlgate/sqlgate/internal/state"
)

// Engines returns the engine and engine name ("mysql", "postgres") of a
// sqlgate cluster by name.
type Engines func(cluster string) (engine.Engine, string, bool)

// Options configure a Rotator.
type Options struct {
	// Interval is how often the schedule is checked; default 30s.
	Interval time.Duration
	// LeaseTTL is how long a node holds the rotation lease without
	// renewing it; default 2m.
	LeaseTTL time.Duration
	// Node names this process in the lease; default a random id.
	Node string
	Log  *slog.Logger
}

// Rotator runs due rotations.
type Rotator struct {
	store   *secrets.Store
	engines Engines
	lease   *lease
	opt     Options
	log     *slog.Logger
	wake    chan struct{}
}

// New returns a Rotator over store, reaching databases through engines and
// coordinating with other nodes through st.
func New(store *secrets.Store, st state.Store, engines Engines, opt Options) *Rotator {
	if opt.Interval == 0 {
		opt.Interval = 30 * time.Second
	}
	if opt.LeaseTTL == 0 {
		opt.LeaseTTL = 2 * time.Minute
	}
	if opt.Node == "" {
		opt.Node = secrets.NewVersionID()
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	return &Rotator{store: store, engines: engines, opt: opt, log: opt.Log.With("component", "rotation"),
		lease: &lease{st: st, node: opt.Node, ttl: opt.LeaseTTL}, wake: make(chan struct{}, 1)}
}

// Wake makes Run look for due rotations now.
func (r *Rotator) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run rotates due secrets until ctx is done.
func (r *Rotator) Run(ctx context.Context) {
	t := time.NewTicker(r.opt.Interval)
	defer t.Stop()
	for {
		r.RunOnce(ctx)
		select {
		case <-ctx.Done():
			r.lease.release(context.WithoutCancel(ctx))
			return
		case <-t.C:
		case <-r.wake:
		}
	}
}

// RunOnce rotates every due secret if this node holds (or takes) the
// lease, and reports how many rotations it attempted.
func (r *Rotator) RunOnce(ctx context.Context) int {
	held, err := r.lease.acquire(ctx)
	if err != nil {
		r.log.Error("rotation lease", "err", err)
		return 0
	}
	if !held {
		return 0
	}
	due, err := r.store.Due(ctx, time.Now())
	if err != nil {
		r.log.Error("list due rotations", "err", err)
		return 0
	}
	for _, arn := range due {
		if err := r.Rotate(ctx, arn); err != nil {
			r.log.Error("rotation failed", "secret", arn, "err", err)
		} else {
			r.log.Info("secret rotated", "secret", arn)
		}
	}
	return len(due)
}

// dbSecret is the JSON of an RDS-style database secret. Other members are
// kept as they are.
type dbSecret struct {
	Engine    string `json:"engine"`
	Host      string `json:"host,omitempty"`
	Username  string `json:"username"`
	Password  string `json:"password"`
	DBName    string `json:"dbname,omitempty"`
	Cluster   string `json:"dbClusterIdentifier"`
	MasterARN string `json:"masterarn,omitempty"`
}

// Rotatable reports why the secret cannot be rotated by sqlgate (nil when
// it can); the error is a *secrets.RequestError for the API.
func (r *Rotator) Rotatable(ctx context.Context, arn string) error {
	v, err := r.store.GetValue(ctx, arn, "", "")
	if err != nil {
		return err
	}
	_, _, err = r.parse(v)
	return err
}

func (r *Rotator) parse(v *secrets.Value) (*dbSecret, map[string]any, error) {
	bad := func(msg string) error {
		return &secrets.RequestError{Msg: "sqlgate rotates database secrets only: " + msg}
	}
	if v.SecretString == nil {
		return nil, nil, bad("the secret is binary")
	}
	var s dbSecret
	var raw map[string]any
	if json.Unmarshal([]byte(*v.SecretString), &s) != nil || json.Unmarshal([]byte(*v.SecretString), &raw) != nil {
		return nil, nil, bad("the SecretString is not a JSON object")
	}
	if s.Username == "" || s.Password == "" || s.Cluster == "" {
		return nil, nil, bad("the secret needs username, password and dbClusterIdentifier")
	}
	_, name, ok := r.engines(s.Cluster)
	if !ok {
		return nil, nil, bad("dbClusterIdentifier " + s.Cluster + " names no sqlgate cluster")
	}
	if name != "mysql" && name != "postgres" {
		return nil, nil, bad("cluster " + s.Cluster + " is not a MariaDB/MySQL or PostgreSQL cluster")
	}
	return &s, raw, nil
}

// errStep wraps a step's failure; its message never contains a password.
type errStep struct {
	step string
	err  error
}

func (e *errStep) Error() string { return e.step + ": " + e.err.Error() }
func (e *errStep) Unwrap() error { return e.err }

// Rotate runs the four steps on one secret now. A failure is recorded on
// the secret (DescribeSecret's RotationFailure) and returned.
func (r *Rotator) Rotate(ctx context.Context, arn string) error {
	err := r.rotate(ctx, arn)
	if err != nil {
		msg := err.Error()
		var se *errStep
		if !errors.As(err, &se) {
			msg = "rotation: " + msg
		}
		if ferr := r.store.FailRotation(ctx, arn, msg); ferr != nil {
			return errors.Join(err, ferr)
		}
	}
	return err
}

func (r *Rotator) rotate(ctx context.Context, arn string) error {
	cur, err := r.store.GetValue(ctx, arn, "", "")
	if err != nil {
		return &errStep{"createSecret", err}
	}
	sec, raw, err := r.parse(cur)
	if err != nil {
		return &errStep{"createSecret", err}
	}
	eng, kind, _ := r.engines(sec.Cluster)
	vid, pending, err := r.createPending(ctx, arn, cur, sec, raw, kind)
	if err != nil {
		return &errStep{"createSecret", err}
	}
	if err := r.store.MarkSetting(ctx, arn, vid); err != nil {
		return &errStep{"setSecret", err}
	}
	if err := r.set(ctx, eng, kind, sec, pending); err != nil {
		return &errStep{"setSecret", err}
	}
	if err := r.store.MarkLive(ctx, arn, vid); err != nil {
		return &errStep{"setSecret", err}
	}
	if err := testLogin(ctx, eng, pending); err != nil {
		r.undo(ctx, arn, sec)
		return &errStep{"testSecret", err}
	}
	if err := r.store.FinishRotation(ctx, arn, vid); err != nil {
		return &errStep{"finishSecret", err}
	}
	return nil
}

// undo runs after a failed test. With alternating users the current
// user was not touched: clients go back to AWSCURRENT. A single user
// already has the pending password on the database, so clients keep
// logging in with it (LiveValue stays on AWSPENDING) and the failure is
// recorded for an operator.
func (r *Rotator) undo(ctx context.Context, arn string, sec *dbSecret) {
	if sec.MasterARN == "" {
		return
	}
	if err := r.store.ClearLive(ctx, arn); err != nil {
		r.log.Error("rotation undo", "secret", arn, "err", err)
	}
}

// createPending makes (or reuses, on a retry) the AWSPENDING version: the
// current value with a new password and, for alternating users, the other
// username.
func (r *Rotator) createPending(ctx context.Context, arn string, cur *secrets.Value, sec *dbSecret, raw map[string]any, kind string) (string, *dbSecret, error) {
	vid, err := r.store.PendingVersion(ctx, arn)
	if err != nil {
		return "", nil, err
	}
	if v, err := r.store.GetValue(ctx, arn, vid, ""); err == nil {
		p, _, err := r.parse(v)
		if err != nil {
			return "", nil, err
		}
		return vid, p, nil
	}
	pw, err := NewPassword(kind)
	if err != nil {
		return "", nil, err
	}
	next := *sec
	next.Password = pw
	if sec.MasterARN != "" {
		next.Username = otherUser(sec.Username)
	}
	raw["password"], raw["username"] = next.Password, next.Username
	b, err := json.Marshal(raw)
	if err != nil {
		return "", nil, fmt.Errorf("encode pending value: %w", err)
	}
	str := string(b)
	if _, err := r.store.PutValue(ctx, secrets.PutInput{SecretID: arn, Token: vid, Value: secrets.Payload{SecretString: &str},
		Stages: []string{secrets.StagePending}}); err != nil {
		return "", nil, err
	}
	return vid, &next, nil
}

// testLogin connects with the pending credentials and runs SELECT 1.
func testLogin(ctx context.Context, eng engine.Engine, s *dbSecret) error {
	c, err := eng.Connect(ctx, engine.Credentials{User: s.Username, Password: s.Password, Database: s.DBName})
	if err != nil {
		return fmt.Errorf("log in as %s with the pending password: %w", s.Username, err)
	}
	defer c.Close()
	if _, err := c.Exec(ctx, "SELECT 1", nil, 0); err != nil {
		return fmt.Errorf("query as %s: %w", s.Username, err)
	}
	return nil
}
