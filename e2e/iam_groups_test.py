"""boto3 against sqlgate: IAM groups (membership, inline and attached
policies evaluated for members, DeleteConflict) and
GetAccountAuthorizationDetails (Filter, Marker/MaxItems pagination,
URL-encoded documents decoded by botocore), as Terraform's aws_iam_group,
aws_iam_group_membership, aws_iam_group_policy and
aws_iam_group_policy_attachment call them.

Environment: SQLGATE_ENDPOINT, AWS credentials (sqlgate root), RUN_ID.
Prints PASS/FAIL lines; exits non-zero on any failure."""

import json
import os
import time

import boto3

import checks
from checks import check, code_of

ENDPOINT = os.environ["SQLGATE_ENDPOINT"]
RUN = os.environ.get("RUN_ID", "x").replace("-", "_")
iam = boto3.client("iam", endpoint_url=ENDPOINT, region_name="us-east-1")


def eventually(fn, seconds=10):
    """Polls fn (with a deadline) until it returns true."""
    end = time.time() + seconds
    while time.time() < end:
        if fn():
            return True
        time.sleep(0.2)
    return fn()


group, user = "py-group-" + RUN, "py-member-" + RUN
g = iam.create_group(GroupName=group, Path="/e2e/")["Group"]
check("py.group.create", g["GroupName"] == group and g["Arn"].endswith(":group/e2e/" + group) and g["GroupId"].startswith("AGPA"), g)
check("py.group.create-duplicate", code_of(iam.create_group, GroupName=group.upper()) == "EntityAlreadyExists")
iam.create_user(UserName=user)
key = iam.create_access_key(UserName=user)["AccessKey"]
as_user = boto3.client("iam", endpoint_url=ENDPOINT, region_name="us-east-1",
                       aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])

# Before membership the user may do nothing.
check("py.group.denied-before", code_of(as_user.list_groups) == "AccessDenied")
iam.add_user_to_group(GroupName=group, UserName=user)
gg = iam.get_group(GroupName=group)
check("py.group.get", [u["UserName"] for u in gg["Users"]] == [user] and gg["Group"]["GroupName"] == group, gg)
check("py.group.list", group in [x["GroupName"] for x in iam.list_groups(PathPrefix="/e2e/")["Groups"]])
check("py.group.for-user", [x["GroupName"] for x in iam.list_groups_for_user(UserName=user)["Groups"]] == [group])

# An inline group policy applies to the member at once.
doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["iam:ListGroups", "iam:GetGroup"], "Resource": "*"}]}
iam.put_group_policy(GroupName=group, PolicyName="read", PolicyDocument=json.dumps(doc))
gp = iam.get_group_policy(GroupName=group, PolicyName="read")
check("py.group.get-policy", gp["PolicyDocument"] == doc and gp["GroupName"] == group, gp)
check("py.group.list-policies", iam.list_group_policies(GroupName=group)["PolicyNames"] == ["read"])
check("py.group.member-allowed", eventually(lambda: code_of(as_user.list_groups) is None))

# An attached policy too.
check("py.group.attached-denied-before", code_of(as_user.list_users) == "AccessDenied")
iam.attach_group_policy(GroupName=group, PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
att = iam.list_attached_group_policies(GroupName=group)["AttachedPolicies"]
check("py.group.list-attached", att == [{"PolicyName": "IAMReadOnlyAccess", "PolicyArn": "arn:aws:iam::aws:policy/IAMReadOnlyAccess"}], att)
check("py.group.attached-allowed", eventually(lambda: code_of(as_user.list_users) is None))

# GetAccountAuthorizationDetails: everything, filtered and paginated.
det = iam.get_account_authorization_details(Filter=["Group"])
mine = [x for x in det["GroupDetailList"] if x["GroupName"] == group]
check("py.auth-details.group", len(mine) == 1 and mine[0]["GroupPolicyList"] == [{"PolicyName": "read", "PolicyDocument": doc}]
      and mine[0]["AttachedManagedPolicies"][0]["PolicyName"] == "IAMReadOnlyAccess"
      and det["UserDetailList"] == [] and det["RoleDetailList"] == [] and det["Policies"] == [], mine)
det = iam.get_account_authorization_details(Filter=["User"])
me = [x for x in det["UserDetailList"] if x["UserName"] == user]
check("py.auth-details.user-groups", len(me) == 1 and me[0]["GroupList"] == [group], me)
det = iam.get_account_authorization_details(Filter=["AWSManagedPolicy"])
ro = [p for p in det["Policies"] if p["PolicyName"] == "IAMReadOnlyAccess"]
check("py.auth-details.aws-managed-attached", len(ro) == 1 and ro[0]["AttachmentCount"] >= 1
      and isinstance(ro[0]["PolicyVersionList"][0]["Document"], dict), ro)
whole = iam.get_account_authorization_details()
pages, seen = iam.get_paginator("get_account_authorization_details").paginate(PaginationConfig={"PageSize": 2}), []
n = 0
for page in pages:
    n += 1
    for k, name in (("UserDetailList", "UserName"), ("GroupDetailList", "GroupName"), ("RoleDetailList", "RoleName"), ("Policies", "Arn")):
        seen += [k + ":" + x[name] for x in page[k]]
want = []
for k, name in (("UserDetailList", "UserName"), ("GroupDetailList", "GroupName"), ("RoleDetailList", "RoleName"), ("Policies", "Arn")):
    want += [k + ":" + x[name] for x in whole[k]]
check("py.auth-details.paginated", n > 1 and seen == want, (n, len(seen), len(want)))
check("py.auth-details.bad-filter", code_of(iam.get_account_authorization_details, Filter=["Users"]) == "ValidationError")
check("py.auth-details.member-via-IAMReadOnlyAccess", code_of(as_user.get_account_authorization_details) is None)  # iam:Get*

# Deletion needs an empty group, as on AWS.
check("py.group.delete-with-members", code_of(iam.delete_group, GroupName=group) == "DeleteConflict")
check("py.group.delete-member-user", code_of(iam.delete_user, UserName=user) == "DeleteConflict")
iam.remove_user_from_group(GroupName=group, UserName=user)
check("py.group.removed-denied", eventually(lambda: code_of(as_user.list_groups) == "AccessDenied"))
check("py.group.remove-again", code_of(iam.remove_user_from_group, GroupName=group, UserName=user) == "NoSuchEntity")
check("py.group.delete-with-policies", code_of(iam.delete_group, GroupName=group) == "DeleteConflict")
iam.delete_group_policy(GroupName=group, PolicyName="read")
iam.detach_group_policy(GroupName=group, PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
iam.delete_group(GroupName=group)
check("py.group.deleted", code_of(iam.get_group, GroupName=group) == "NoSuchEntity")
iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
iam.delete_user(UserName=user)

checks.exit()
