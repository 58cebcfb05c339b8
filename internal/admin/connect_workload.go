package admin

import (
	"context"
	"errors"
	"fmt"

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

// ConnectPlan is what Connect creates for a function, built once for the
// CLI (`sqlgate connect`) and the console's Connect wizard: in workload
// mode a role trusted only by the workload type's service principal with
// a least-privilege inline policy, and a workload bound to it; in access
// key mode (the weaker choice) a user with the same policy.
type ConnectPlan struct {
	Mode           string `json:"mode"`               // "workload" or "accessKey"
	RoleName       string `json:"roleName,omitempty"` // workload mode
	TrustPolicy    string `json:"trustPolicy,omitempty"`
	WorkloadName   string `json:"workloadName,omitempty"`
	WorkloadType   string `json:"workloadType,omitempty"`
	UserName       string `json:"userName,omitempty"` // access key mode
	Path           string `json:"path"`
	Description    string `json:"description"`
	PolicyName     string `json:"policyName"`
	PolicyDocument string `json:"policyDocument"`
}

// PlanConnect builds the plan for function on cluster (name and ARN),
// logging in with secretARN. typ is the workload type ("" = lambda).
func PlanConnect(function, cluster, clusterARN, secretARN string, readOnly, accessKey bool, typ string) (*ConnectPlan, error) {
	if !validFunction(function) {
		return nil, fmt.Errorf("invalid function name %q (1-60 of letters, digits and +=,.@_-)", function)
	}
	p := &ConnectPlan{Path: ConnectUserPath, Description: "sqlgate connect: function " + function,
		PolicyName: ConnectPolicyName(cluster), PolicyDocument: ConnectPolicy(clusterARN, secretARN, readOnly)}
	if accessKey {
		p.Mode, p.UserName = "accessKey", ConnectUser(function)
		return p, nil
	}
	if typ == "" {
		typ = "lambda"
	}
	svc, ok := workload.Services[typ]
	if !ok {
		return nil, fmt.Errorf("unknown workload type %q (want lambda, ec2, ecs or eks)", typ)
	}
	p.Mode, p.RoleName, p.TrustPolicy, p.WorkloadName, p.WorkloadType = "workload", ConnectRole(function), ConnectTrust(svc), function, typ
	return p, nil
}

// validFunction reports whether name makes valid IAM role and user names
// ("fn-" + name, at most 64 characters).
func validFunction(name string) bool {
	if name == "" || len(name) > 60 {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '+' || c == '=' || c == ',' || c == '.' || c == '@' || c == '-') {
			return false
		}
	}
	return true
}

// WorkloadEnv is the environment a workload's SDKs read their credentials
// from: the container credentials URI and the bootstrap token.
func WorkloadEnv(uri, token string) string {
	return fmt.Sprintf("export AWS_CONTAINER_CREDENTIALS_FULL_URI=%s\nexport AWS_CONTAINER_AUTHORIZATION_TOKEN=%s\n", uri, token)
}

// connectWorkload is the workload mode of Connect.
func (a *Admin) connectWorkload(ctx context.Context, o ConnectOptions) error {
	p, clusterARN, secretARN, err := a.connectPlan(ctx, o, false, o.Type)
	if err != nil {
		return err
	}
	if _, err := a.ids.CreateRole(ctx, p.RoleName, p.Path, p.TrustPolicy, p.Description, 0); err != nil && !errors.Is(err, identity.ErrExists) {
		return err
	}
	if err := a.ids.PutRolePolicy(ctx, p.RoleName, p.PolicyName, p.PolicyDocument); err != nil {
		return err
	}
	ws := a.workloads()
	_, token, err := ws.Create(ctx, workload.CreateInput{Name: p.WorkloadName, Type: p.WorkloadType, Role: p.RoleName})
	if errors.Is(err, workload.ErrExists) {
		token, err = ws.RotateToken(ctx, p.WorkloadName)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "# function %q can now use cluster %q as role %s (workload %s, policy %s); no access key\n",
		o.Function, o.Cluster, p.RoleName, p.WorkloadName, p.PolicyName)
	fmt.Fprintf(a.out, "# the bootstrap token below is shown only now (running connect again replaces it)\n")
	fmt.Fprintf(a.out, "export AWS_ENDPOINT_URL=%s\nexport AWS_REGION=%s AWS_DEFAULT_REGION=%s\n", a.endpoint(o), a.cfg.Region, a.cfg.Region)
	a.printWorkloadEnv(p.WorkloadName, token)
	fmt.Fprintf(a.out, "export CLUSTER_ARN=%s\nexport SECRET_ARN=%s\n", clusterARN, secretARN)
	fmt.Fprint(a.out, snippets)
	return nil
}
