// Command sqlgate is a self-hosted, AWS-wire-compatible Data API, Secrets
// Manager and connection proxy in front of MySQL, MariaDB, PostgreSQL and
// an embedded SQLite. This file is wiring only: flags → config → server.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/procs"
	"github.com/sqlgate/sqlgate/internal/server"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `sqlgate — the Aurora Data API, Secrets Manager and RDS Proxy as one binary,
in front of MySQL, MariaDB, PostgreSQL or an embedded SQLite.

Usage:
  sqlgate serve [--config FILE] [--data-dir DIR] [--http ADDR] [--log-format text|json] [--pprof ADDR]
               [--lean-http=false]
      Run the server. With no flags: HTTP on 127.0.0.1:8080, data dir
      ./sqlgate-data, one embedded SQLite cluster "default" and a secret
      "default" for it. Root credentials come from SQLGATE_ROOT_ACCESS_KEY_ID /
      SQLGATE_ROOT_SECRET_ACCESS_KEY or are generated and printed at first start.
      SIGHUP reloads the HTTPS and proxy certificates, the endpoints, API
      keys and usage plans, the clusters' max_connections and changed
      per-principal limits (without dropping clients), and logs which other
      changed settings need a restart; SIGTERM/SIGINT shut down gracefully.
      --lean-http=false serves every HTTP request with net/http (by default
      the Data API's keep-alive POSTs on listen.http and listen.https take
      a lean HTTP/1.1 path; config listen.lean_http).
      Unless GOMAXPROCS is set, serve runs Go code on one processor while
      its load stays below 0.7 core (cheaper per proxied transaction) and on
      all CPUs from 0.85 core on.
  sqlgate config check [--config FILE]
      Validate a configuration file and exit (0 valid, 2 invalid).

Administration (works on the data dir without a running server; refuses
while a server holds it; all take [--config FILE] [--data-dir DIR]):
  sqlgate users create|delete NAME      create or delete an IAM user
  sqlgate users list
  sqlgate keys create|list USER         create an access key (secret shown once) / list
  sqlgate keys delete USER ACCESS_KEY_ID
  sqlgate policies attach USER ARN      attach a managed policy
  sqlgate policies attach USER NAME --file POLICY.json   put an inline policy
  sqlgate policies detach USER ARN|NAME
  sqlgate policies show USER
  sqlgate secrets create NAME VALUE     e.g. '{"username":"app","password":"…"}'
  sqlgate secrets list
  sqlgate secrets get NAME|ARN
  sqlgate clusters list
  sqlgate apikeys create NAME [--plan PLAN]   create an endpoint API key
  sqlgate apikeys list | revoke KEY | usage KEY
  sqlgate usage-plans create NAME [--rate R] [--burst B] [--daily N] [--weekly N] [--monthly N] [--endpoints a,b]
  sqlgate usage-plans list | delete NAME | bind PLAN KEY | unbind PLAN KEY
      With --endpoint-url URL (or $SQLGATE_ENDPOINT_URL) these two talk to
      a running server instead, through its API Gateway API, signed with
      AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; changes serve at once.
  sqlgate workloads create NAME --role ROLE [--type lambda|ec2|ecs|eks]
        [--allow-cidrs NET,…] [--lifetime 1h] [--tags K=V,…] [--source-identity ID]
      Register a workload whose role trusts the type's service principal;
      print its credential variables and bootstrap token (shown once).
  sqlgate workloads list | rotate-token NAME | delete NAME
  sqlgate roles revoke-sessions ROLE    deny every session issued until now
  sqlgate connect --cluster NAME --function NAME [--secret NAME] [--readonly] [--type lambda|ec2|ecs|eks]
      Create (idempotently) a role fn-NAME trusted only by the type's service
      principal, with a least-privilege policy for the cluster and its
      secret, and a workload NAME bound to it (new bootstrap token each
      run); print the environment (no access key) and snippets for
      Python, Node and Go. --access-key: the older, weaker mode, a user
      fn-NAME with a long-lived access key.
  sqlgate credentials-agent --remote https://HOST:PORT [--listen 127.0.0.1:9911] [--ca-file PEM]
      Serve container credentials node-locally on a host without sqlgate,
      relaying each request (and its bootstrap token) to a remote sqlgate
      over HTTPS. Point AWS_CONTAINER_CREDENTIALS_FULL_URI at it.
  sqlgate version
      Print the version.
  sqlgate help
      Show this help.

Environment:
  SQLGATE_ROOT_ACCESS_KEY_ID, SQLGATE_ROOT_SECRET_ACCESS_KEY  root credentials
  SQLGATE_MASTER_KEY   base64 32-byte key encrypting secrets at rest
                       (default: generated into DATA_DIR/master.key, mode 0600)

Docs: docs/ (config.md, dataapi.md, secrets.md, metrics.md, endpoints.md).
`

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stdout, stderr)
	case "config":
		if len(args) < 2 || args[1] != "check" {
			fmt.Fprintln(stderr, "usage: sqlgate config check [--config FILE]")
			return 2
		}
		return checkConfig(args[2:], stdout, stderr)
	case "users", "keys", "policies", "secrets", "clusters", "connect":
		return adminCommand(args[0], args[1:], stdout, stderr)
	case "credentials-agent":
		return credentialsAgent(args[1:], stdout, stderr)
	case "workloads", "roles":
		return workloadsCommand(args[0], args[1:], stdout, stderr)
	case "apikeys", "usage-plans":
		return apiKeysCommand(args[0], args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "sqlgate", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "sqlgate: unknown command %q\n\n%s", args[0], usage)
	return 2
}

type serveFlags struct {
	config, dataDir, http, logFormat string
	// pprof is serve's debug profiler address (empty: off).
	pprof string
	// lean is --lean-http; false turns the lean HTTP/1.1 path off.
	lean bool
}

func parseServeFlags(name string, args []string, stderr io.Writer) (*serveFlags, error) {
	fs, f := commandFlags(name, stderr, "")
	fs.StringVar(&f.http, "http", "", "plain HTTP listen address (overrides listen.http)")
	fs.StringVar(&f.logFormat, "log-format", "", "log format: text or json (overrides log_format)")
	fs.BoolVar(&f.lean, "lean-http", true, "serve the Data API's POSTs on listen.http with the lean HTTP/1.1 path; --lean-http=false leaves every request to net/http (as listen.lean_http: false)")
	if name == "serve" {
		fs.StringVar(&f.pprof, "pprof", "", "debug: serve the Go profiler on this address (e.g. 127.0.0.1:6060; no auth, off by default)")
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return f, nil
}

// loadConfig reads the file (or the default) and applies flag overrides.
func loadConfig(f *serveFlags) (*config.Config, error) {
	cfg := config.Default()
	if f.config != "" {
		c, err := config.Load(f.config)
		if err != nil {
			return nil, err
		}
		cfg = c
	}
	if f.dataDir != "" {
		cfg.DataDir = f.dataDir
	}
	if f.http != "" {
		cfg.Listen.HTTP = f.http
	}
	if f.logFormat != "" {
		cfg.LogFormat = f.logFormat
	}
	if !f.lean {
		off := false
		cfg.Listen.LeanHTTP = &off
	}
	return cfg, cfg.Validate()
}

func checkConfig(args []string, stdout, stderr io.Writer) int {
	f, err := parseServeFlags("config check", args, stderr)
	if err != nil {
		return 2
	}
	if _, err := loadConfig(f); err != nil {
		fmt.Fprintln(stderr, "sqlgate: config:", err)
		return 2
	}
	fmt.Fprintln(stdout, "config OK")
	return 0
}

func serve(args []string, stdout, stderr io.Writer) int {
	f, err := parseServeFlags("serve", args, stderr)
	if err != nil {
		return 2
	}
	cfg, err := loadConfig(f)
	if err != nil {
		fmt.Fprintln(stderr, "sqlgate: config:", err)
		return 2
	}
	// The log (one access-log line per request) is buffered and written
	// off the request path; closing it writes what is left.
	lw := server.NewLogWriter(stderr)
	defer lw.Close()
	log := server.NewLogger(lw, cfg.LogFormat)
	// Signals cancel start-up too: a state store that never answers must
	// not make SIGTERM wait.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	srv, err := server.New(ctx, cfg, server.Options{Log: log, Stdout: stdout})
	if err != nil {
		fmt.Fprintln(stderr, "sqlgate:", err)
		return 1
	}
	if f.pprof != "" {
		if err := startPprof(ctx, f.pprof, stderr); err != nil {
			fmt.Fprintln(stderr, "sqlgate:", err)
			return 1
		}
	}
	if procs.Enabled() {
		go procs.New(log).Run(ctx)
	}
	go reloadOnHUP(ctx, srv, log, f)
	err = srv.Run(ctx)
	_ = lw.Close() // the server's last lines before our own
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "sqlgate:", err)
		return 1
	}
	return 0
}

func reloadOnHUP(ctx context.Context, srv *server.Server, log *slog.Logger, f *serveFlags) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if err := srv.ReloadTLS(); err != nil {
				log.Error("reload TLS certificate", "err", err)
			} else {
				log.Info("reloaded TLS certificate")
			}
			// The same file and flag overrides as at start.
			cfg, err := loadConfig(f)
			if err != nil {
				log.Error("reload config; the previous settings stay", "err", err)
				continue
			}
			if err := srv.ReloadEndpoints(cfg); err != nil {
				log.Error("reload endpoints; the previous endpoints keep serving", "err", err)
			} else {
				log.Info("reloaded endpoints")
			}
			if err := srv.ReloadPools(cfg); err != nil {
				log.Error("reload pool sizes", "err", err)
			} else {
				log.Info("reloaded pool sizes")
			}
			if changed := srv.RestartNeeded(cfg); len(changed) > 0 {
				log.Warn("changed settings need a restart; the running values stay",
					"settings", strings.Join(changed, ", "))
			}
		}
	}
}
