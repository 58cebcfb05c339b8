package admin

import (
	"context"
	"errors"
	"fmt"

	"github.com/sqlgate/sqlgate/internal/arn"
	"github.com/sqlgate/sqlgate/internal/identity"
	"github.com/sqlgate/sqlgate/internal/workload"
)

// ConnectRole names the role Connect creates for a function.
func ConnectRole(function string) string { return "fn-" + function }

// ConnectTrust is the trust policy of a Connect role: only the service
// principal of the workload type may assume it.
func ConnectTrust(service string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":%q},"Action":"sts:AssumeRole"}]}`, service)
}

// connectWorkload is the workload mode of Connect.
func (a *Admin) connectWorkload(ctx context.Context, o ConnectOptions) error {
	if o.Type == "" {
		o.Type = "lambda"
	}
	svc, ok := workload.Services[o.Type]
	if !ok {
		return fmt.Errorf("unknown workload type %q (want lambda, ec2, ecs or eks)", o.Type)
	}
	cl, err := a.cluster(o.Cluster)
	if err != nil {
		return err
	}
	secretARN, err := a.connectSecret(ctx, cl, o.Secret)
	if err != nil {
		return err
	}
	if o.ReadOnly {
		if secretARN, err = a.readOnlySecret(ctx, cl, secretARN, o.Function); err != nil {
			return err
		}
	}
	role := ConnectRole(o.Function)
	if _, err := a.ids.CreateRole(ctx, role, ConnectUserPath, ConnectTrust(svc), "sqlgate connect: function "+o.Function, 0); err != nil && !errors.Is(err, identity.ErrExists) {
		return err
	}
	clusterARN := arn.Cluster(a.cfg.Region, a.cfg.AccountID, cl.Name)
	if err := a.ids.PutRolePolicy(ctx, role, ConnectPolicyName(cl.Name), ConnectPolicy(clusterARN, secretARN, o.ReadOnly)); err != nil {
		return err
	}
	ws := a.workloads()
	_, token, err := ws.Create(ctx, workload.CreateInput{Name: o.Function, Type: o.Type, Role: role})
	if errors.Is(err, workload.ErrExists) {
		token, err = ws.RotateToken(ctx, o.Function)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "# function %q can now use cluster %q as role %s (workload %s, policy %s); no access key\n",
		o.Function, o.Cluster, role, o.Function, ConnectPolicyName(cl.Name))
	fmt.Fprintf(a.out, "# the bootstrap token below is shown only now (running connect again replaces it)\n")
	fmt.Fprintf(a.out, "export AWS_ENDPOINT_URL=%s\nexport AWS_REGION=%s AWS_DEFAULT_REGION=%s\n", a.endpoint(o), a.cfg.Region, a.cfg.Region)
	a.printWorkloadEnv(o.Function, token)
	fmt.Fprintf(a.out, "export CLUSTER_ARN=%s\nexport SECRET_ARN=%s\n", clusterARN, secretARN)
	fmt.Fprint(a.out, snippets)
	return nil
}
