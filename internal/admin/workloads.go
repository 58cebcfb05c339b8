package admin

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sqlgate/sqlgate/internal/config"
	"github.com/sqlgate/sqlgate/internal/workload"
)

// WorkloadsCreate registers a workload and prints its bootstrap token
// (shown once) and the variables a function needs.
func (a *Admin) WorkloadsCreate(ctx context.Context, in workload.CreateInput) error {
	w, token, err := a.workloads().Create(ctx, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "# workload %q (%s) assumes %s\n", w.Name, w.Type, w.RoleARN)
	fmt.Fprintf(a.out, "# the bootstrap token is shown only now; sqlgate workloads rotate-token %s makes a new one\n", w.Name)
	a.printWorkloadEnv(w.Name, token)
	return nil
}

func (a *Admin) printWorkloadEnv(name, token string) {
	fmt.Fprint(a.out, WorkloadEnv(CredentialsURI(a.cfg, name), token))
}

// CredentialsURI is the container credentials URI of workload name: on
// the node-local listener when configured, else on the HTTP(S) listener.
func CredentialsURI(cfg *config.Config, name string) string {
	base := endpointOf(cfg)
	if l := cfg.Workloads.Listen; l != "" {
		base = "http://" + l
	}
	return base + workload.CredentialsPath + name
}

// WorkloadsList prints the workloads (never tokens).
func (a *Admin) WorkloadsList(ctx context.Context) error {
	ws, err := a.workloads().List(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTYPE\tROLE\tALLOWED NETWORKS\tTOKEN ROTATED")
	for _, w := range ws {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", w.Name, w.Type, w.RoleARN, strings.Join(w.AllowCIDRs, ","), w.TokenRotated.Format(time.RFC3339))
	}
	return tw.Flush()
}

// WorkloadsRotateToken replaces a workload's bootstrap token and prints
// the new one; the old one stops working at once.
func (a *Admin) WorkloadsRotateToken(ctx context.Context, name string) error {
	token, err := a.workloads().RotateToken(ctx, name)
	if err != nil {
		return err
	}
	a.printWorkloadEnv(name, token)
	return nil
}

// WorkloadsDelete deletes a workload: its endpoint stops at once.
func (a *Admin) WorkloadsDelete(ctx context.Context, name string) error {
	if err := a.workloads().Delete(ctx, name); err != nil {
		return err
	}
	fmt.Fprintf(a.out, "deleted workload %s\n", name)
	return nil
}

// RolesRevokeSessions revokes every session of a role issued until now.
func (a *Admin) RolesRevokeSessions(ctx context.Context, role string) error {
	cut, err := workload.RevokeSessions(ctx, a.ids, role, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "revoked sessions of role %s issued before %s (inline policy %s)\n", role, cut.Format(time.RFC3339), workload.RevokePolicyName)
	return nil
}

func (a *Admin) workloads() *workload.Store {
	s := workload.New(a.st, a.ids)
	s.Lifetime = a.cfg.Workloads.CredentialLifetime
	return s
}
