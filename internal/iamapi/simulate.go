package iamapi

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/sqlgate/sqlgate/internal/iam"
	"github.com/sqlgate/sqlgate/internal/identity"
)

// maxSimulations bounds ActionNames × ResourceArns of one simulation.
const maxSimulations = 1000

type simulateResult struct {
	EvaluationResults members[evaluationResultXML] `xml:"EvaluationResults"`
	page
}

type evaluationResultXML struct {
	EvalActionName       string                `xml:"EvalActionName"`
	EvalResourceName     string                `xml:"EvalResourceName"`
	EvalDecision         string                `xml:"EvalDecision"`
	MatchedStatements    members[statementXML] `xml:"MatchedStatements"`
	MissingContextValues members[string]       `xml:"MissingContextValues"`
}

// statementXML names the policy whose statement decided. sqlgate does not
// track statement positions, so StartPosition/EndPosition are left out.
type statementXML struct {
	SourcePolicyID   string `xml:"SourcePolicyId"`
	SourcePolicyType string `xml:"SourcePolicyType"`
}

// simPolicy is one policy of the simulated principal.
type simPolicy struct {
	id, kind string // SourcePolicyId, SourcePolicyType
	p        *iam.Policy
}

// simulatePrincipalPolicy evaluates the identity policies of a user or
// role (inline, attached, plus PolicyInputList) for each action and
// resource, with iam.Evaluate: the same decision the authorizer makes.
// MatchedStatements names the policy that decided, as far as
// iam.Result reports it (the first deciding statement).
// MissingContextValues lists the condition keys the policies test that the
// action's request would carry (iam.Actions) but the simulation was not
// given: unsupported keys among them fail closed.
func (a *API) simulatePrincipalPolicy(ctx context.Context, f *form) (any, error) {
	source := f.required("PolicySourceArn")
	f.check("PolicySourceArn", source, 20, 2048, nil)
	actions := f.list("ActionNames")
	if len(actions) == 0 {
		f.fail("Value null at 'actionNames' failed to satisfy constraint: Member must not be null")
	}
	for i, act := range actions {
		if n := len(act); n < 3 || n > 128 {
			f.fail("Value '%s' at 'actionNames.%d.member' failed to satisfy constraint: Member must have length between 3 and 128", short(act), i+1)
		}
	}
	resources := f.list("ResourceArns")
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	inputs := f.list("PolicyInputList")
	keys := contextEntries(f)
	maxItems, marker := f.pagination()
	if err := f.err(); err != nil {
		return nil, err
	}
	if len(actions)*len(resources) > maxSimulations {
		return nil, errValidation(fmt.Sprintf("ActionNames × ResourceArns must not exceed %d simulations.", maxSimulations))
	}
	principal, policies, err := a.principalPolicies(ctx, source)
	if err != nil {
		return nil, err
	}
	for i, doc := range inputs {
		p, err := iam.Parse([]byte(doc))
		if err != nil {
			return nil, errMalformedPolicy(fmt.Sprintf("PolicyInputList.%d: %v", i+1, err))
		}
		policies = append(policies, simPolicy{id: "PolicyInputList." + strconv.Itoa(i+1), kind: "none", p: p})
	}
	compiled := make([]*iam.Policy, len(policies))
	for i, sp := range policies {
		compiled[i] = sp.p // nil (unparsable stored policy) fails closed
	}
	var results []evaluationResultXML
	for _, act := range actions {
		for _, res := range resources {
			req := &iam.Request{Action: act, Resource: res, Principal: principal, Context: keys}
			r := iam.Evaluate(compiled, req)
			er := evaluationResultXML{EvalActionName: act, EvalResourceName: res, EvalDecision: r.Decision.String(),
				MissingContextValues: list(iam.MissingKeys(compiled, req))}
			if r.Policy >= 0 && r.Policy < len(policies) {
				er.MatchedStatements.Member = []statementXML{{SourcePolicyID: policies[r.Policy].id, SourcePolicyType: policies[r.Policy].kind}}
			}
			results = append(results, er)
		}
	}
	idx := func(i int) string { return fmt.Sprintf("%08d", i) }
	keyed := make([]int, len(results))
	for i := range keyed {
		keyed[i] = i
	}
	got, pg, err := paginate(keyed, idx, marker, maxItems)
	if err != nil {
		return nil, err
	}
	out := &simulateResult{page: pg, EvaluationResults: list(make([]evaluationResultXML, 0, len(got)))}
	for _, i := range got {
		out.EvaluationResults.Member = append(out.EvaluationResults.Member, results[i])
	}
	return out, nil
}

// contextEntries reads ContextEntries.member.N.{ContextKeyName,
// ContextKeyValues.member.M, ContextKeyType} into a Request.Context map.
func contextEntries(f *form) map[string][]string {
	var out map[string][]string
	for _, e := range f.structs("ContextEntries") {
		name := e.required("ContextKeyName")
		e.check("ContextKeyName", name, 5, 256, nil)
		e.enum("ContextKeyType", "string", "stringList", "numeric", "numericList", "boolean", "booleanList",
			"ip", "ipList", "binary", "binaryList", "date", "dateList")
		vals := e.list("ContextKeyValues")
		f.errs = append(f.errs, e.errs...)
		if out == nil {
			out = map[string][]string{}
		}
		key := strings.ToLower(name)
		out[key] = append(out[key], vals...)
	}
	return out
}

// principalPolicies loads the user or role named by arn, authorizes
// iam:SimulatePrincipalPolicy on it and returns it as a principal with its
// inline and attached policies (for a user, also those of its groups).
func (a *API) principalPolicies(ctx context.Context, arn string) (*iam.Principal, []simPolicy, error) {
	prefix := "arn:aws:iam::" + a.account + ":"
	rest, ok := strings.CutPrefix(arn, prefix)
	kind, _, _ := strings.Cut(rest, "/")
	if !ok || (kind != "user" && kind != "role") {
		return nil, nil, errInvalidInput("Invalid ARN: " + short(arn) + " is not a user or role of this account.")
	}
	name := rest[strings.LastIndexByte(rest, '/')+1:]
	var (
		p     *iam.Principal
		sets  []*identity.PolicySet
		kinds []string
	)
	if kind == "user" {
		u, err := a.resolveUser(ctx, "SimulatePrincipalPolicy", name, nil)
		if err != nil {
			return nil, nil, err
		}
		p, sets, kinds = &iam.Principal{ARN: u.ARN, UserName: u.UserName, UserID: u.UserID, Tags: u.Tags.Map()}, []*identity.PolicySet{&u.PolicySet}, []string{"user"}
		for _, gn := range u.Groups {
			g, err := a.b.GetGroup(ctx, gn)
			if err != nil {
				continue // deleted since
			}
			sets, kinds = append(sets, &g.PolicySet), append(kinds, "group")
		}
	} else {
		r, err := a.resolveRole(ctx, "SimulatePrincipalPolicy", name, nil)
		if err != nil {
			return nil, nil, err
		}
		p, sets, kinds = &iam.Principal{ARN: r.ARN, UserID: r.RoleID, RoleARN: r.ARN, Tags: r.Tags.Map()}, []*identity.PolicySet{&r.PolicySet}, []string{"role"}
	}
	if p.ARN != arn {
		return nil, nil, errNoSuchEntity(entity{kind, name}.notFound())
	}
	var out []simPolicy
	for i, ps := range sets {
		got, err := a.simPolicies(ctx, ps, kinds[i])
		if err != nil {
			return nil, nil, err
		}
		out = append(out, got...)
	}
	return p, out, nil
}

// simPolicies returns the inline (SourcePolicyType kind) and attached
// ("user-managed") policies of one policy set.
func (a *API) simPolicies(ctx context.Context, ps *identity.PolicySet, kind string) ([]simPolicy, error) {
	var out []simPolicy
	for _, n := range slices.Sorted(maps.Keys(ps.InlinePolicies)) {
		pol, _ := iam.Parse([]byte(ps.InlinePolicies[n]))
		out = append(out, simPolicy{id: n, kind: kind, p: pol})
	}
	for _, parn := range ps.AttachedPolicies {
		mp, err := a.b.GetPolicy(ctx, parn)
		if err != nil {
			return nil, backendErr(err, entity{"policy", parn})
		}
		var doc string
		for _, v := range mp.Versions {
			if v.VersionID == mp.DefaultVersionID {
				doc = v.Document
			}
		}
		pol, _ := iam.Parse([]byte(doc))
		out = append(out, simPolicy{id: mp.PolicyName, kind: "user-managed", p: pol})
	}
	return out, nil
}
