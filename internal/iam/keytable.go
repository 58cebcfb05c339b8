package iam

import (
	"slices"
	"strings"
)

// KeyKind says how sqlgate treats a condition key for one action.
type KeyKind uint8

const (
	// KeyOther: the key is not one AWS supplies for the action; a
	// condition on it is evaluated as on a missing key, as AWS does.
	KeyOther KeyKind = iota
	// KeySupplied: sqlgate supplies the key whenever AWS would (some keys
	// only when the request carries the parameter, or the principal the
	// attribute).
	KeySupplied
	// KeyAbsent: AWS would not supply the key for a request to sqlgate
	// either (no VPC endpoints, organizations, MFA devices or rotation
	// functions exist here); a condition on it is evaluated as on a missing
	// key.
	KeyAbsent
	// KeyUnsupported: AWS would supply the key but sqlgate cannot. A
	// condition on it is indeterminate: a Deny on it applies, an Allow on
	// it does not match (fails closed).
	KeyUnsupported
)

func (k KeyKind) String() string {
	switch k {
	case KeySupplied:
		return "supplied"
	case KeyAbsent:
		return "absent"
	case KeyUnsupported:
		return "unsupported"
	}
	return "other"
}

// ActionKeys lists the condition keys of one action by kind. Key names are
// spelled as in AWS's Service Authorization Reference; tag families end in
// "/${TagKey}" or "/tag-key".
type ActionKeys struct {
	Action                        string
	Supplied, Absent, Unsupported []string
}

// GlobalKeys are the global condition keys: every action has them.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
var GlobalKeys = ActionKeys{
	Action: "*",
	Supplied: []string{
		"aws:CurrentTime", "aws:EpochTime", "aws:SecureTransport", "aws:SourceIp",
		"aws:PrincipalArn", "aws:PrincipalAccount", "aws:PrincipalType", "aws:userid",
		"aws:username", "aws:PrincipalTag/${TagKey}", "aws:PrincipalIsAWSService",
		"aws:RequestedRegion", "aws:ViaAWSService", "aws:UserAgent", "aws:Referer",
		"aws:ResourceAccount", "aws:TokenIssueTime", "aws:MultiFactorAuthPresent",
		"aws:SourceIdentity",
	},
	Absent: []string{
		"aws:MultiFactorAuthAge", "aws:FederatedProvider", "aws:AssumedRoot",
		"aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:PrincipalServiceName",
		"aws:PrincipalServiceNamesList", "aws:ResourceOrgID", "aws:ResourceOrgPaths",
		"aws:SourceVpc", "aws:SourceVpce", "aws:SourceVpcArn", "aws:VpcSourceIp",
		"aws:CalledVia", "aws:CalledViaFirst", "aws:CalledViaLast",
		"aws:SourceArn", "aws:SourceAccount", "aws:SourceOwner", "aws:SourceOrgID", "aws:SourceOrgPaths",
		"aws:Ec2InstanceSourceVpc", "aws:Ec2InstanceSourcePrivateIPv4",
	},
}

// Key groups shared by several actions.
var (
	secretRes       = []string{"secretsmanager:SecretId", "secretsmanager:ResourceTag/tag-key", "aws:ResourceTag/${TagKey}", "secretsmanager:SecretPrimaryRegion"}
	secretResAbsent = []string{"secretsmanager:resource/AllowRotationLambdaArn"}
	iamRes          = []string{"aws:ResourceTag/${TagKey}", "iam:ResourceTag/${TagKey}"}
	requestTags     = []string{"aws:RequestTag/${TagKey}", "aws:TagKeys"}
	noBoundary      = []string{"iam:PermissionsBoundary"}
	clusterAbsent   = []string{"aws:ResourceTag/${TagKey}", "aws:TagKeys"}
	sessionKeys     = []string{"aws:RequestTag/${TagKey}", "aws:TagKeys", "sts:TransitiveTagKeys"}
	// rdsRes: sqlgate supplies the resource's tags as aws:ResourceTag/*;
	// the RDS-specific tag keys are not (fail closed).
	rdsRes        = []string{"aws:ResourceTag/${TagKey}"}
	rdsClusterTag = []string{"rds:cluster-tag/${TagKey}"}
	rdsReqTag     = []string{"rds:req-tag/${TagKey}"}
	apigwTags     = []string{"aws:ResourceTag/${TagKey}", "aws:RequestTag/${TagKey}", "aws:TagKeys"}
)

func join(groups ...[]string) []string { return slices.Concat(groups...) }

// actionTable lists, for every action sqlgate implements, the service keys
// AWS's Service Authorization Reference gives it, by kind.
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecuritytokenservice.html
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonrdsdataapi.html
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonrds.html
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonapigatewaymanagement.html
var actionTable = []ActionKeys{
	// API Gateway: the API keys and usage plans of SQL endpoints. Tags
	// are stored and reported but not evaluated (fail closed).
	{Action: "apigateway:DELETE", Unsupported: apigwTags},
	{Action: "apigateway:GET", Unsupported: apigwTags},
	{Action: "apigateway:PATCH", Unsupported: apigwTags},
	{Action: "apigateway:POST", Unsupported: apigwTags},

	{Action: "rds-data:BatchExecuteStatement", Absent: clusterAbsent},
	{Action: "rds-data:BeginTransaction", Absent: clusterAbsent},
	{Action: "rds-data:CommitTransaction", Absent: clusterAbsent},
	{Action: "rds-data:ExecuteSql", Absent: clusterAbsent},
	{Action: "rds-data:ExecuteStatement", Absent: clusterAbsent},
	{Action: "rds-data:RollbackTransaction", Absent: clusterAbsent},
	{Action: "rds-db:connect"},

	{Action: "rds:AddTagsToResource", Supplied: join(rdsRes, requestTags), Unsupported: join(rdsClusterTag, rdsReqTag)},
	{Action: "rds:CreateDBProxy", Supplied: requestTags, Unsupported: rdsReqTag},
	{Action: "rds:CreateDBProxyEndpoint", Supplied: join(rdsRes, requestTags), Unsupported: rdsReqTag},
	{Action: "rds:DeleteDBProxy", Supplied: rdsRes},
	{Action: "rds:DeleteDBProxyEndpoint", Supplied: rdsRes},
	{Action: "rds:DeregisterDBProxyTargets", Supplied: rdsRes},
	{Action: "rds:DescribeDBClusters", Supplied: rdsRes, Unsupported: rdsClusterTag},
	{Action: "rds:DescribeDBProxies"},
	{Action: "rds:DescribeDBProxyEndpoints"},
	{Action: "rds:DescribeDBProxyTargetGroups", Supplied: rdsRes},
	{Action: "rds:DescribeDBProxyTargets", Supplied: rdsRes},
	{Action: "rds:DisableHttpEndpoint", Supplied: rdsRes, Unsupported: rdsClusterTag},
	{Action: "rds:EnableHttpEndpoint", Supplied: rdsRes, Unsupported: rdsClusterTag},
	{Action: "rds:ListTagsForResource", Supplied: rdsRes, Unsupported: rdsClusterTag},
	{Action: "rds:ModifyDBProxy", Supplied: rdsRes},
	{Action: "rds:ModifyDBProxyTargetGroup", Supplied: rdsRes},
	{Action: "rds:RegisterDBProxyTargets", Supplied: rdsRes, Unsupported: rdsClusterTag},
	{Action: "rds:RemoveTagsFromResource", Supplied: join(rdsRes, []string{"aws:TagKeys"}), Unsupported: rdsClusterTag},

	{Action: "secretsmanager:BatchGetSecretValue"},
	{Action: "secretsmanager:CancelRotateSecret", Supplied: secretRes, Absent: secretResAbsent},
	{Action: "secretsmanager:CreateSecret",
		Supplied: join([]string{"secretsmanager:Name", "secretsmanager:Description", "secretsmanager:KmsKeyId", "aws:ResourceTag/${TagKey}",
			"secretsmanager:ResourceTag/tag-key", "secretsmanager:AddReplicaRegions", "secretsmanager:ForceOverwriteReplicaSecret"}, requestTags),
		Unsupported: []string{"secretsmanager:KmsKeyArn"}},
	{Action: "secretsmanager:DeleteSecret", Supplied: join(secretRes, []string{"secretsmanager:RecoveryWindowInDays", "secretsmanager:ForceDeleteWithoutRecovery"}), Absent: secretResAbsent},
	{Action: "secretsmanager:DeleteResourcePolicy", Supplied: secretRes, Absent: secretResAbsent},
	{Action: "secretsmanager:DescribeSecret", Supplied: secretRes, Absent: secretResAbsent},
	{Action: "secretsmanager:GetRandomPassword"},
	{Action: "secretsmanager:GetResourcePolicy", Supplied: secretRes, Absent: secretResAbsent},
	{Action: "secretsmanager:GetSecretValue", Supplied: join(secretRes, []string{"secretsmanager:VersionId", "secretsmanager:VersionStage"}), Absent: secretResAbsent},
	{Action: "secretsmanager:ListSecretVersionIds", Supplied: secretRes, Absent: secretResAbsent},
	{Action: "secretsmanager:ListSecrets"},
	{Action: "secretsmanager:PutResourcePolicy", Supplied: join(secretRes, []string{"secretsmanager:BlockPublicPolicy"}), Absent: secretResAbsent},
	{Action: "secretsmanager:PutSecretValue", Supplied: secretRes, Absent: secretResAbsent},
	{Action: "secretsmanager:RestoreSecret", Supplied: secretRes, Absent: secretResAbsent},
	{Action: "secretsmanager:RotateSecret", Supplied: join(secretRes, []string{"secretsmanager:RotationLambdaARN",
		"secretsmanager:ModifyRotationRules", "secretsmanager:RotateImmediately"}), Absent: secretResAbsent},
	{Action: "secretsmanager:TagResource", Supplied: join(secretRes, requestTags), Absent: secretResAbsent},
	{Action: "secretsmanager:UntagResource", Supplied: join(secretRes, []string{"aws:TagKeys"}), Absent: secretResAbsent},
	{Action: "secretsmanager:UpdateSecret", Supplied: join(secretRes, []string{"secretsmanager:Description", "secretsmanager:KmsKeyId"}),
		Absent: secretResAbsent, Unsupported: []string{"secretsmanager:KmsKeyArn"}},
	{Action: "secretsmanager:UpdateSecretVersionStage", Supplied: join(secretRes, []string{"secretsmanager:VersionStage"}), Absent: secretResAbsent},
	{Action: "secretsmanager:ValidateResourcePolicy", Supplied: secretRes, Absent: secretResAbsent},

	{Action: "iam:AddUserToGroup"},
	{Action: "iam:AttachGroupPolicy", Supplied: []string{"iam:PolicyARN"}},
	{Action: "iam:AttachRolePolicy", Supplied: join(iamRes, []string{"iam:PolicyARN"}), Absent: noBoundary},
	{Action: "iam:AttachUserPolicy", Supplied: join(iamRes, []string{"iam:PolicyARN"}), Absent: noBoundary},
	{Action: "iam:CreateAccessKey", Supplied: iamRes},
	{Action: "iam:CreateGroup"},
	{Action: "iam:CreatePolicy", Supplied: requestTags},
	{Action: "iam:CreatePolicyVersion", Supplied: iamRes},
	{Action: "iam:CreateRole", Supplied: requestTags, Absent: noBoundary},
	{Action: "iam:CreateUser", Supplied: requestTags, Absent: noBoundary},
	{Action: "iam:DeleteAccessKey", Supplied: iamRes},
	{Action: "iam:DeleteGroup"},
	{Action: "iam:DeleteGroupPolicy"},
	{Action: "iam:DeletePolicy", Supplied: iamRes},
	{Action: "iam:DeleteRole", Supplied: iamRes, Absent: noBoundary},
	{Action: "iam:DeleteRolePolicy", Supplied: iamRes, Absent: noBoundary},
	{Action: "iam:DeleteUser", Supplied: iamRes, Absent: noBoundary},
	{Action: "iam:DeleteUserPolicy", Supplied: iamRes, Absent: noBoundary},
	{Action: "iam:DetachGroupPolicy", Supplied: []string{"iam:PolicyARN"}},
	{Action: "iam:DetachRolePolicy", Supplied: join(iamRes, []string{"iam:PolicyARN"}), Absent: noBoundary},
	{Action: "iam:DetachUserPolicy", Supplied: join(iamRes, []string{"iam:PolicyARN"}), Absent: noBoundary},
	{Action: "iam:GetAccountAuthorizationDetails"},
	{Action: "iam:GetGroup"},
	{Action: "iam:GetGroupPolicy"},
	{Action: "iam:GetPolicy", Supplied: iamRes},
	{Action: "iam:GetPolicyVersion", Supplied: iamRes},
	{Action: "iam:GetRole", Supplied: iamRes},
	{Action: "iam:GetRolePolicy", Supplied: iamRes},
	{Action: "iam:GetUser", Supplied: iamRes},
	{Action: "iam:GetUserPolicy", Supplied: iamRes},
	{Action: "iam:ListAccessKeys", Supplied: iamRes},
	{Action: "iam:ListAttachedGroupPolicies"},
	{Action: "iam:ListAttachedRolePolicies", Supplied: iamRes},
	{Action: "iam:ListAttachedUserPolicies", Supplied: iamRes},
	{Action: "iam:ListGroupPolicies"},
	{Action: "iam:ListGroups"},
	{Action: "iam:ListGroupsForUser", Supplied: iamRes},
	{Action: "iam:ListPolicies"},
	{Action: "iam:ListPolicyTags", Supplied: iamRes},
	{Action: "iam:ListRolePolicies", Supplied: iamRes},
	{Action: "iam:ListRoleTags", Supplied: iamRes},
	{Action: "iam:ListRoles"},
	{Action: "iam:ListUserPolicies", Supplied: iamRes},
	{Action: "iam:ListUserTags", Supplied: iamRes},
	{Action: "iam:ListUsers"},
	{Action: "iam:PassRole"},
	{Action: "iam:PutGroupPolicy"},
	{Action: "iam:PutRolePolicy", Supplied: iamRes, Absent: noBoundary},
	{Action: "iam:RemoveUserFromGroup"},
	{Action: "iam:PutUserPolicy", Supplied: iamRes, Absent: noBoundary},
	{Action: "iam:SimulatePrincipalPolicy", Supplied: iamRes},
	{Action: "iam:TagPolicy", Supplied: join(iamRes, requestTags)},
	{Action: "iam:TagRole", Supplied: join(iamRes, requestTags)},
	{Action: "iam:TagUser", Supplied: join(iamRes, requestTags)},
	{Action: "iam:UntagPolicy", Supplied: join(iamRes, []string{"aws:TagKeys"})},
	{Action: "iam:UntagRole", Supplied: join(iamRes, []string{"aws:TagKeys"})},
	{Action: "iam:UntagUser", Supplied: join(iamRes, []string{"aws:TagKeys"})},
	{Action: "iam:UpdateAccessKey", Supplied: iamRes},
	{Action: "iam:UpdateAssumeRolePolicy", Supplied: iamRes},
	{Action: "iam:UpdateRole", Supplied: iamRes},
	{Action: "iam:CreateOpenIDConnectProvider"},
	{Action: "iam:DeleteOpenIDConnectProvider"},
	{Action: "iam:GetOpenIDConnectProvider"},
	{Action: "iam:ListOpenIDConnectProviders"},

	// The workload API (sqlgate's own; iam:PassRole guards binding a role).
	{Action: "sqlgate:CreateWorkload"},
	{Action: "sqlgate:DeleteWorkload"},
	{Action: "sqlgate:GetWorkload"},
	{Action: "sqlgate:ListWorkloads"},
	{Action: "sqlgate:RotateWorkloadToken"},

	{Action: "sts:AssumeRole", Supplied: join(iamRes, sessionKeys, []string{"sts:ExternalId", "sts:RoleSessionName", "sts:SourceIdentity"})},
	{Action: "sts:AssumeRoleWithWebIdentity", Supplied: join(iamRes, []string{"sts:RoleSessionName"})},
	{Action: "sts:SetSourceIdentity", Supplied: join(iamRes, []string{"sts:SourceIdentity"})},
	{Action: "sts:TagSession", Supplied: join(iamRes, sessionKeys)},
}

// keySet maps a lower-case key (or tag-family prefix ending in "/") to its
// kind.
type keySet map[string]KeyKind

// kind returns the kind of lower-case key k in s.
func (s keySet) kind(k string) (KeyKind, bool) {
	if kk, ok := s[k]; ok {
		return kk, true
	}
	if i := strings.IndexByte(k, '/'); i > 0 && i < len(k)-1 {
		kk, ok := s[k[:i+1]]
		return kk, ok
	}
	return KeyOther, false
}

var (
	globalSet   keySet
	actionSets  map[string]keySet // lower-case action → its keys
	allKeys     map[string]struct{}
	allPrefixes []string
)

func init() {
	globalSet = makeSet(GlobalKeys)
	actionSets = make(map[string]keySet, len(actionTable))
	allKeys = map[string]struct{}{}
	for _, a := range append([]ActionKeys{GlobalKeys}, actionTable...) {
		actionSets[strings.ToLower(a.Action)] = makeSet(a)
		for k := range makeSet(a) {
			if strings.HasSuffix(k, "/") {
				if !slices.Contains(allPrefixes, k) {
					allPrefixes = append(allPrefixes, k)
				}
				continue
			}
			allKeys[k] = struct{}{}
		}
	}
	for k := range otherKeys {
		allKeys[k] = struct{}{}
	}
}

// makeSet indexes a's keys; a tag family "x:Tag/${TagKey}" becomes the
// prefix "x:tag/".
func makeSet(a ActionKeys) keySet {
	s := keySet{}
	add := func(keys []string, kind KeyKind) {
		for _, k := range keys {
			k = strings.ToLower(k)
			if i := strings.IndexByte(k, '/'); i > 0 && (strings.HasSuffix(k, "/${tagkey}") || strings.HasSuffix(k, "/tag-key")) {
				k = k[:i+1]
			}
			s[k] = kind
		}
	}
	add(a.Supplied, KeySupplied)
	add(a.Absent, KeyAbsent)
	add(a.Unsupported, KeyUnsupported)
	return s
}

// KindOf returns how sqlgate treats condition key (any case) for action.
func KindOf(action, key string) KeyKind {
	k := strings.ToLower(key)
	if s, ok := actionSets[strings.ToLower(action)]; ok {
		if kk, ok := s.kind(k); ok {
			return kk
		}
	}
	if kk, ok := globalSet.kind(k); ok {
		return kk
	}
	return KeyOther
}

// unsupported reports whether lower-case key k is unsupported for the
// action of ec (lower-cased in ec.lower).
func (ec *evalCtx) unsupported(k string) bool {
	if s, ok := actionSets[string(ec.lower)]; ok {
		if kk, ok := s.kind(k); ok {
			return kk == KeyUnsupported
		}
	}
	kk, _ := globalSet.kind(k)
	return kk == KeyUnsupported
}

// Actions returns the key table of every implemented action, sorted by
// action, for documentation and the policy simulator.
func Actions() []ActionKeys {
	out := slices.Clone(actionTable)
	slices.SortFunc(out, func(a, b ActionKeys) int { return strings.Compare(a.Action, b.Action) })
	return out
}

// ConditionKeys returns the lower-case condition keys p's conditions test,
// sorted, each once.
func (p *Policy) ConditionKeys() []string {
	var out []string
	for _, sts := range [][]*statement{p.deny, p.allow} {
		for _, st := range sts {
			for i := range st.conds {
				if !slices.Contains(out, st.conds[i].key) {
					out = append(out, st.conds[i].key)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// MissingKeys returns the condition keys tested by policies that AWS
// would supply for req.Action (supplied or unsupported here) but req does
// not hold: what a policy simulation lacks, and what fails closed.
func MissingKeys(policies []*Policy, req *Request) []string {
	var out []string
	ec := evalCtx{req: req, lower: appendLower(nil, req.Action)}
	for _, p := range policies {
		if p == nil {
			continue
		}
		for _, k := range p.ConditionKeys() {
			if _, ok := ec.lookup(k); ok || slices.Contains(out, k) {
				continue
			}
			if kk := KindOf(req.Action, k); kk == KeySupplied || kk == KeyUnsupported {
				out = append(out, k)
			}
		}
	}
	slices.Sort(out)
	return out
}

// KeyTableMarkdown renders GlobalKeys and Actions as the Markdown tables
// of docs/iam.md ("Condition keys per action").
func KeyTableMarkdown() string {
	var b strings.Builder
	code := func(keys []string) string {
		if len(keys) == 0 {
			return "—"
		}
		q := make([]string, len(keys))
		for i, k := range keys {
			q[i] = "`" + k + "`"
		}
		return strings.Join(q, ", ")
	}
	b.WriteString("Global keys, for every action:\n\n| kind | keys |\n|---|---|\n")
	b.WriteString("| supplied | " + code(GlobalKeys.Supplied) + " |\n")
	b.WriteString("| absent as on AWS | " + code(GlobalKeys.Absent) + " |\n")
	b.WriteString("\nService keys per action:\n\n| action | supplied | absent as on AWS | unsupported (fail closed) |\n|---|---|---|---|\n")
	for _, a := range Actions() {
		b.WriteString("| `" + a.Action + "` | " + code(a.Supplied) + " | " + code(a.Absent) + " | " + code(a.Unsupported) + " |\n")
	}
	return b.String()
}
