"""boto3 against sqlgate: every Secrets Manager and IAM call added with
built-in rotation, and the call sequences Terraform's aws_secretsmanager_secret
(+ _policy) and aws_iam_role (+ _role_policy) make, replayed in order.

Environment: SQLGATE_ENDPOINT, AWS credentials (sqlgate root), RUN_ID.
Prints PASS/FAIL lines; exits non-zero on any failure."""

import json
import os

import boto3

import checks
from checks import check, code_of

ENDPOINT = os.environ["SQLGATE_ENDPOINT"]
RUN = os.environ.get("RUN_ID", "x")
sm = boto3.client("secretsmanager", endpoint_url=ENDPOINT, region_name="us-east-1")
iam = boto3.client("iam", endpoint_url=ENDPOINT, region_name="us-east-1")


# GetRandomPassword
pw = sm.get_random_password(PasswordLength=20, ExcludePunctuation=True, IncludeSpace=False)["RandomPassword"]
check("py.get-random-password", len(pw) == 20 and pw.isalnum(), pw)
check("py.get-random-password.too-long", code_of(sm.get_random_password, PasswordLength=5000) in ("ValidationException", "InvalidParameterException"))

# BatchGetSecretValue
names = ["py-batch-%s-%d" % (RUN, i) for i in range(3)]
for i, n in enumerate(names):
    sm.create_secret(Name=n, SecretString="v%d" % i)
out = sm.batch_get_secret_value(SecretIdList=names + ["py-missing-" + RUN])
check("py.batch-get.values", sorted(v["SecretString"] for v in out["SecretValues"]) == ["v0", "v1", "v2"], out)
check("py.batch-get.errors", [e["ErrorCode"] for e in out["Errors"]] == ["ResourceNotFoundException"], out["Errors"])
got, kw = [], {"Filters": [{"Key": "name", "Values": ["py-batch-" + RUN]}], "MaxResults": 2}
while True:
    page = sm.batch_get_secret_value(**kw)
    got += [v["Name"] for v in page["SecretValues"]]
    if "NextToken" not in page:
        break
    kw["NextToken"] = page["NextToken"]
check("py.batch-get.filters-paginated", sorted(got) == names, got)

# Terraform aws_secretsmanager_secret + aws_secretsmanager_secret_policy
tf = "tf-secret-" + RUN
arn = sm.create_secret(Name=tf, Description="terraform", Tags=[{"Key": "env", "Value": "e2e"}])["ARN"]
d = sm.describe_secret(SecretId=arn)
check("py.tf.describe", d["Name"] == tf and "RotationEnabled" not in d or d.get("RotationEnabled") is False, d)
check("py.tf.get-resource-policy-none", "ResourcePolicy" not in sm.get_resource_policy(SecretId=arn))
policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]})
v = sm.validate_resource_policy(SecretId=arn, ResourcePolicy=policy)
check("py.tf.validate-resource-policy", v["PolicyValidationPassed"] and v["ValidationErrors"] == [], v)
p = sm.put_resource_policy(SecretId=arn, ResourcePolicy=policy, BlockPublicPolicy=True)
check("py.tf.put-resource-policy", p["ARN"] == arn and p["Name"] == tf, p)
g = sm.get_resource_policy(SecretId=arn)
check("py.tf.get-resource-policy", json.loads(g["ResourcePolicy"]) == json.loads(policy), g)
public = policy.replace('{"AWS": "arn:aws:iam::000000000000:root"}', '"*"')
check("py.tf.block-public-policy", code_of(sm.put_resource_policy, SecretId=arn, ResourcePolicy=public, BlockPublicPolicy=True) == "PublicPolicyException")
check("py.tf.malformed-policy", code_of(sm.put_resource_policy, SecretId=arn, ResourcePolicy="{}") == "MalformedPolicyDocumentException")
sm.delete_resource_policy(SecretId=arn)
check("py.tf.delete-resource-policy", "ResourcePolicy" not in sm.get_resource_policy(SecretId=arn))
r = sm.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
check("py.tf.delete-secret", r["ARN"] == arn, r)

# Rotation configuration on a non-database secret is refused.
check("py.rotate-secret.not-a-database-secret", code_of(sm.rotate_secret, SecretId=names[0]) == "InvalidRequestException")

# Terraform aws_iam_role + aws_iam_role_policy
role = "tf-role-" + RUN
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "sts:AssumeRole"}]}
iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
gr = iam.get_role(RoleName=role)["Role"]
check("py.tf.get-role", gr["RoleName"] == role and "RoleLastUsed" in gr, gr)
doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "rds-data:ExecuteStatement", "Resource": "*"}]}
iam.put_role_policy(RoleName=role, PolicyName="data", PolicyDocument=json.dumps(doc))
rp = iam.get_role_policy(RoleName=role, PolicyName="data")
check("py.tf.get-role-policy", rp["PolicyDocument"] == doc and rp["RoleName"] == role, rp)
check("py.tf.list-role-policies", iam.list_role_policies(RoleName=role)["PolicyNames"] == ["data"])
check("py.tf.get-role-policy-missing", code_of(iam.get_role_policy, RoleName=role, PolicyName="nope") == "NoSuchEntity")
trust["Statement"][0]["Principal"] = {"AWS": "arn:aws:iam::000000000000:user/someone"}
iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(trust))
check("py.tf.update-assume-role-policy", iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"] == trust)
iam.update_role(RoleName=role, Description="updated", MaxSessionDuration=7200)
gr = iam.get_role(RoleName=role)["Role"]
check("py.tf.update-role", gr["Description"] == "updated" and gr["MaxSessionDuration"] == 7200, gr)
check("py.tf.delete-role-with-policy", code_of(iam.delete_role, RoleName=role) == "DeleteConflict")
iam.delete_role_policy(RoleName=role, PolicyName="data")
iam.delete_role(RoleName=role)
check("py.tf.delete-role", code_of(iam.get_role, RoleName=role) == "NoSuchEntity")

checks.exit()
