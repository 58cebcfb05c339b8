package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sqlgate/sqlgate/internal/barrier"
	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/endpoints"
	"github.com/sqlgate/sqlgate/internal/state"
)

// apiKeysCommand runs `sqlgate apikeys …` and `sqlgate usage-plans …`:
// against a running server through its API Gateway API when an endpoint
// is given (flag or environment), else offline on the data dir.
func apiKeysCommand(name string, args []string, stdout, stderr io.Writer) int {
	fs, f := commandFlags(name, stderr, "; offline only")
	var endpoint, caFile string
	fs.StringVar(&endpoint, "endpoint-url", "", "a running server, e.g. http://127.0.0.1:8080 (default $SQLGATE_ENDPOINT_URL, $AWS_ENDPOINT_URL; none = offline)")
	fs.StringVar(&caFile, "ca-file", "", "PEM CA certificate of an HTTPS server")
	var plan config.UsagePlan
	var eps, bindPlan string
	if name == "usage-plans" {
		fs.Float64Var(&plan.Rate, "rate", 0, "requests per second per key (0 = no limit)")
		fs.IntVar(&plan.Burst, "burst", 0, "token bucket size (0 = max(1, rate))")
		fs.Int64Var(&plan.DailyQuota, "daily", 0, "requests per key per UTC day (0 = no quota)")
		fs.Int64Var(&plan.WeeklyQuota, "weekly", 0, "requests per key per week from Monday UTC (0 = no quota)")
		fs.Int64Var(&plan.MonthlyQuota, "monthly", 0, "requests per key per month (0 = no quota)")
		fs.StringVar(&eps, "endpoints", "", "comma-separated endpoint names the plan covers (default all)")
	} else {
		fs.StringVar(&bindPlan, "plan", "", "bind the new key to this usage plan (create)")
	}
	sub, positional, err := parseSub(fs, args, true)
	if err != nil {
		return 2
	}
	if eps != "" {
		plan.Endpoints = strings.Split(eps, ",")
	}
	if ep := onlineEndpoint(endpoint); ep != "" {
		g, err := newGWClient(ep, caFile)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err = runKeys(&onlineKeys{ctx: ctx, g: g, out: stdout}, name+" "+sub, positional, plan, bindPlan)
		}
		return cliExit(stderr, err)
	}
	return runDataDirKeys(name+" "+sub, positional, f, plan, bindPlan, stdout, stderr)
}

// cliExit prints err and returns the exit code: 0, 2 for usage, else 1.
func cliExit(stderr io.Writer, err error) int {
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "sqlgate:", err)
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

// runDataDirKeys runs a key or plan command on the data dir.
func runDataDirKeys(cmd string, args []string, f *serveFlags, plan config.UsagePlan, bindPlan string, stdout, stderr io.Writer) int {
	cfg, err := loadConfig(f)
	if err != nil {
		fmt.Fprintln(stderr, "sqlgate: config:", err)
		return 2
	}
	st, closeStore, err := openDataDir(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "sqlgate:", err)
		return 1
	}
	defer closeStore()
	store := endpoints.NewStore(st)
	store.SetDeclared(cfg.UsagePlans, cfg.APIKeys)
	if store.Sealer, err = barrier.LoadOrCreateKey(cfg.DataDir); err != nil {
		fmt.Fprintln(stderr, "sqlgate: load master key:", err)
		return 1
	}
	k := &dataDirKeys{ctx: context.Background(), cfg: cfg, store: store, out: stdout}
	return cliExit(stderr, runKeys(k, cmd, args, plan, bindPlan))
}

// openDataDir locks the data dir and opens its state store.
func openDataDir(cfg *config.Config) (state.Store, func(), error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("create data dir: %w", err)
	}
	unlock, err := state.LockDir(cfg.DataDir)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := state.Open(ctx, cfg.State.Driver, cfg.State.DSN, cfg.DataDir)
	if err != nil {
		unlock()
		return nil, nil, fmt.Errorf("open state store: %w", err)
	}
	return st, func() { _ = st.Close(); unlock() }, nil
}

// dataDirKeys runs the key and plan commands on the data dir's state store.
type dataDirKeys struct {
	ctx   context.Context
	cfg   *config.Config
	store *endpoints.Store
	out   io.Writer
}

// keysBackend is where the key and plan commands act: the data dir
// (dataDirKeys) or a running server's API Gateway API (onlineKeys).
type keysBackend interface {
	create(name, plan string) error
	list() error
	revoke(key string) error
	usage(key string) error
	createPlan(p config.UsagePlan) error
	listPlans() error
	deletePlan(name string) error
	bind(plan, key string, bind bool) error
}

var (
	_ keysBackend = (*dataDirKeys)(nil)
	_ keysBackend = (*onlineKeys)(nil)
)

// runKeys runs one key or plan command ("apikeys create", …) on b.
func runKeys(b keysBackend, cmd string, args []string, plan config.UsagePlan, bindPlan string) error {
	need := func(n int) error {
		if len(args) != n {
			return fmt.Errorf("%w: %s takes %d argument(s)", errUsage, cmd, n)
		}
		return nil
	}
	switch cmd {
	case "apikeys create":
		return firstErr(need(1), func() error { return b.create(args[0], bindPlan) })
	case "apikeys list":
		return firstErr(need(0), b.list)
	case "apikeys revoke":
		return firstErr(need(1), func() error { return b.revoke(args[0]) })
	case "apikeys usage":
		return firstErr(need(1), func() error { return b.usage(args[0]) })
	case "usage-plans create":
		return firstErr(need(1), func() error { plan.Name = args[0]; return b.createPlan(plan) })
	case "usage-plans list":
		return firstErr(need(0), b.listPlans)
	case "usage-plans delete":
		return firstErr(need(1), func() error { return b.deletePlan(args[0]) })
	case "usage-plans bind", "usage-plans unbind":
		return firstErr(need(2), func() error { return b.bind(args[0], args[1], cmd == "usage-plans bind") })
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
}

func (k *dataDirKeys) revoke(key string) error {
	r, err := k.store.RevokeKey(k.ctx, key)
	if err == nil {
		fmt.Fprintf(k.out, "revoked api key %s (%s); refused from the server's next start\n", r.Name, r.ID)
	}
	return err
}

func (k *dataDirKeys) deletePlan(name string) error { return k.store.DeletePlan(k.ctx, name) }

func (k *dataDirKeys) bind(plan, key string, bind bool) error {
	r, err := k.store.Bind(k.ctx, plan, key, bind)
	if err == nil {
		fmt.Fprintf(k.out, "api key %s: plans %s\n", r.Name, strings.Join(r.Plans, ","))
	}
	return err
}

func (k *dataDirKeys) create(name, plan string) error {
	r, value, err := k.store.CreateKey(k.ctx, name)
	if err != nil {
		return err
	}
	if plan != "" {
		if _, err := k.store.Bind(k.ctx, plan, r.ID, true); err != nil {
			return err
		}
	}
	fmt.Fprintf(k.out, "API_KEY=%s\n# api key %s (%s); get-api-key --include-value shows it again\n", value, r.Name, r.ID)
	return nil
}

func (k *dataDirKeys) list() error {
	keys, err := k.store.ListKeys(k.ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(k.out, "%-20s %-14s %-8s %-20s %s\n", "NAME", "ID", "STATUS", "CREATED", "PLANS")
	for _, c := range k.cfg.APIKeys {
		fmt.Fprintf(k.out, "%-20s %-14s %-8s %-20s %s\n", c.Name, "config."+c.Name, "config", "-", strings.Join(c.UsagePlans, ","))
	}
	for _, r := range keys {
		status := "enabled"
		if r.Revoked != nil {
			status = "revoked"
		}
		fmt.Fprintf(k.out, "%-20s %-14s %-8s %-20s %s\n", r.Name, r.ID, status, r.Created.Format(time.RFC3339), strings.Join(r.Plans, ","))
	}
	return nil
}

func (k *dataDirKeys) usage(key string) error {
	id := ""
	for _, c := range k.cfg.APIKeys {
		if c.Name == key || "config."+c.Name == key {
			id = "config." + c.Name
		}
	}
	if id == "" {
		r, err := k.store.FindKey(k.ctx, key)
		if err != nil {
			return err
		}
		id = r.ID
	}
	days, err := k.store.Usage(k.ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(k.out, "%-12s %s\n", "DAY", "REQUESTS")
	var total int64
	for _, d := range days {
		fmt.Fprintf(k.out, "%-12s %d\n", d.Day, d.Count)
		total += d.Count
	}
	fmt.Fprintf(k.out, "%-12s %d\n", "total", total)
	return nil
}

func (k *dataDirKeys) createPlan(p config.UsagePlan) error {
	names := map[string]bool{}
	for _, e := range k.cfg.Endpoints {
		names[e.Name] = true
	}
	if err := config.ValidateUsagePlan("usage-plans create "+p.Name, p, names); err != nil {
		return err
	}
	if err := k.store.CreatePlan(k.ctx, p); err != nil {
		return err
	}
	fmt.Fprintf(k.out, "created usage plan %s\n", p.Name)
	return nil
}

func (k *dataDirKeys) listPlans() error {
	plans, err := k.store.ListPlans(k.ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(k.out, "%-20s %-8s %-6s %-10s %-10s %-10s %s\n", "NAME", "RATE", "BURST", "DAILY", "WEEKLY", "MONTHLY", "ENDPOINTS")
	for _, p := range plans {
		e := strings.Join(p.Endpoints, ",")
		if e == "" {
			e = "*"
		}
		fmt.Fprintf(k.out, "%-20s %-8g %-6d %-10d %-10d %-10d %s\n", p.Name, p.Rate, p.Burst, p.DailyQuota, p.WeeklyQuota, p.MonthlyQuota, e)
	}
	return nil
}
