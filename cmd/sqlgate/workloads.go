package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/sqlgate/sqlgate/internal/admin"
	"github.com/sqlgate/sqlgate/internal/identity"
	"github.com/sqlgate/sqlgate/internal/workload"
)

// workloadsCommand runs `sqlgate workloads …` and `sqlgate roles
// revoke-sessions ROLE` offline on the data dir, like the other admin
// commands (a running server sees the changes at once: it reads
// workloads from the state store on every credential request).
func workloadsCommand(name string, args []string, stdout, stderr io.Writer) int {
	fs, f := commandFlags(name, stderr, "")
	var in workload.CreateInput
	var cidrs, tags string
	fs.StringVar(&in.Role, "role", "", "role name or ARN the workload assumes (create)")
	fs.StringVar(&in.Type, "type", "lambda", "lambda, ec2, ecs or eks: the role must trust its service principal")
	fs.StringVar(&cidrs, "allow-cidrs", "", "comma-separated networks the token is accepted from (default loopback)")
	fs.StringVar(&tags, "tags", "", "session tags K=V,K=V (the trust policy must allow sts:TagSession)")
	fs.StringVar(&in.SourceIdentity, "source-identity", "", "source identity of the sessions (needs sts:SetSourceIdentity)")
	fs.DurationVar(&in.Lifetime, "lifetime", 0, "credential lifetime (default workloads.credential_lifetime, 1h)")
	sub, positional, err := parseSub(fs, args, true)
	if err != nil {
		return 2
	}
	if cidrs != "" {
		in.AllowCIDRs = strings.Split(cidrs, ",")
	}
	if in.Tags, err = parseTags(tags); err != nil {
		fmt.Fprintln(stderr, "sqlgate:", err)
		return 2
	}
	cfg, err := loadConfig(f)
	if err != nil {
		fmt.Fprintln(stderr, "sqlgate: config:", err)
		return 2
	}
	if len(positional) != 1 && !(name+" "+sub == "workloads list" && len(positional) == 0) {
		fmt.Fprintf(stderr, "usage: sqlgate %s %s NAME\n\n%s", name, sub, usage)
		return 2
	}
	a, err := admin.Open(cfg, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "sqlgate:", err)
		return 1
	}
	defer a.Close()
	ctx := context.Background()
	switch name + " " + sub {
	case "workloads create":
		if in.Role == "" {
			fmt.Fprintln(stderr, "sqlgate: workloads create needs --role")
			return 2
		}
		in.Name = positional[0]
		err = a.WorkloadsCreate(ctx, in)
	case "workloads list":
		err = a.WorkloadsList(ctx)
	case "workloads rotate-token":
		err = a.WorkloadsRotateToken(ctx, positional[0])
	case "workloads delete":
		err = a.WorkloadsDelete(ctx, positional[0])
	case "roles revoke-sessions":
		err = a.RolesRevokeSessions(ctx, positional[0])
	default:
		fmt.Fprintf(stderr, "sqlgate: unknown command %q\n\n%s", name+" "+sub, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "sqlgate:", err)
		return 1
	}
	return 0
}

func parseTags(s string) (identity.Tags, error) {
	var out identity.Tags
	for _, kv := range strings.Split(s, ",") {
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("tag %q: want KEY=VALUE", kv)
		}
		out = append(out, identity.Tag{Key: k, Value: v})
	}
	return out, nil
}
