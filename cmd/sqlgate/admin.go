package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/sqlgate/sqlgate/internal/admin"
)

// errUsage marks a command-line mistake (exit code 2).
var errUsage = errors.New("usage")

// adminCommand runs an offline administration command: users, keys,
// policies, secrets, clusters, connect.
func adminCommand(name string, args []string, stdout, stderr io.Writer) int {
	fs, f := commandFlags(name, stderr, "")
	var co admin.ConnectOptions
	var policyFile string
	if name == "connect" {
		fs.StringVar(&co.Cluster, "cluster", "", "cluster the function uses (required)")
		fs.StringVar(&co.Function, "function", "", "function name (required); the user is fn-NAME")
		fs.StringVar(&co.Secret, "secret", "", "secret the function logs in with (default: the secret named like the cluster)")
		fs.BoolVar(&co.ReadOnly, "readonly", false, "allow only ExecuteStatement")
		fs.StringVar(&co.Endpoint, "endpoint-url", "", "endpoint to print (default from the config)")
		fs.StringVar(&co.Type, "type", "lambda", "workload type: lambda, ec2, ecs or eks")
		fs.BoolVar(&co.AccessKey, "access-key", false, "weaker: create a user with a long-lived access key instead of a workload")
	}
	if name == "policies" {
		fs.StringVar(&policyFile, "file", "", "policy JSON file for an inline policy (attach)")
	}
	sub, positional, err := parseSub(fs, args, name != "connect")
	if err != nil {
		return 2
	}
	cfg, err := loadConfig(f)
	if err != nil {
		fmt.Fprintln(stderr, "sqlgate: config:", err)
		return 2
	}
	if name == "clusters" {
		if sub != "list" {
			fmt.Fprintln(stderr, "usage: sqlgate clusters list [--config FILE]")
			return 2
		}
		admin.ClustersList(cfg, stdout)
		return 0
	}
	a, err := admin.Open(cfg, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "sqlgate:", err)
		return 1
	}
	defer a.Close()
	err = dispatch(context.Background(), a, name, sub, positional, policyFile, co)
	switch {
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "sqlgate: %v\n\n%s", err, usage)
		return 2
	case err != nil:
		fmt.Fprintln(stderr, "sqlgate:", err)
		return 1
	}
	return 0
}

func dispatch(ctx context.Context, a *admin.Admin, name, sub string, args []string, policyFile string, co admin.ConnectOptions) error {
	need := func(n int) error {
		if len(args) != n {
			return fmt.Errorf("%w: %s %s takes %d argument(s)", errUsage, name, sub, n)
		}
		return nil
	}
	switch name + " " + sub {
	case "users create":
		return firstErr(need(1), func() error { return a.UsersCreate(ctx, args[0]) })
	case "users list":
		return firstErr(need(0), func() error { return a.UsersList(ctx) })
	case "users delete":
		return firstErr(need(1), func() error { return a.UsersDelete(ctx, args[0]) })
	case "keys create":
		return firstErr(need(1), func() error { return a.KeysCreate(ctx, args[0]) })
	case "keys list":
		return firstErr(need(1), func() error { return a.KeysList(ctx, args[0]) })
	case "keys delete":
		return firstErr(need(2), func() error { return a.KeysDelete(ctx, args[0], args[1]) })
	case "policies attach":
		return firstErr(need(2), func() error { return attachPolicy(ctx, a, args[0], args[1], policyFile) })
	case "policies detach":
		return firstErr(need(2), func() error { return a.PoliciesDetach(ctx, args[0], args[1]) })
	case "policies show":
		return firstErr(need(1), func() error { return a.PoliciesShow(ctx, args[0]) })
	case "secrets create":
		return firstErr(need(2), func() error { return a.SecretsCreate(ctx, args[0], args[1]) })
	case "secrets list":
		return firstErr(need(0), func() error { return a.SecretsList(ctx) })
	case "secrets get":
		return firstErr(need(1), func() error { return a.SecretsGet(ctx, args[0]) })
	case "connect ":
		if co.Cluster == "" || co.Function == "" {
			return fmt.Errorf("%w: connect needs --cluster and --function", errUsage)
		}
		return a.Connect(ctx, co)
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, name+" "+sub)
}

func attachPolicy(ctx context.Context, a *admin.Admin, user, arnOrName, file string) error {
	doc := ""
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		doc = string(b)
	} else if len(arnOrName) < 4 || arnOrName[:4] != "arn:" {
		return fmt.Errorf("%w: policies attach USER NAME needs --file POLICY.json (or pass a managed policy ARN)", errUsage)
	}
	return a.PoliciesAttach(ctx, user, arnOrName, doc)
}

// parseInterspersed parses flags that may come after positional
// arguments ("policies attach USER NAME --file F").
// commandFlags returns the flag set of `sqlgate NAME …` with the flags
// that locate the data dir (--config, --data-dir) bound to the returned
// serveFlags; note is appended to their help ("; offline only").
func commandFlags(name string, stderr io.Writer, note string) (*flag.FlagSet, *serveFlags) {
	fs := flag.NewFlagSet("sqlgate "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &serveFlags{}
	fs.StringVar(&f.config, "config", "", "YAML config file (default: the embedded SQLite setup)"+note)
	fs.StringVar(&f.dataDir, "data-dir", "", "data directory (overrides data_dir)"+note)
	return fs, f
}

// parseSub takes the subcommand (the first argument, when hasSub) off
// args and parses the rest, flags and positional arguments interspersed.
func parseSub(fs *flag.FlagSet, args []string, hasSub bool) (sub string, positional []string, err error) {
	if hasSub && len(args) > 0 {
		sub, args = args[0], args[1:]
	}
	positional, err = parseInterspersed(fs, args)
	return sub, positional, err
}

func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func firstErr(err error, fn func() error) error {
	if err != nil {
		return err
	}
	return fn()
}
