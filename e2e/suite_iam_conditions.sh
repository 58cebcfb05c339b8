# suite_iam_conditions.sh: suite g2, condition keys with the aws CLI.
# Policies pasted from AWS's documentation: each Deny fires (resource tags,
# iam:PolicyARN, ForceDeleteWithoutRecovery, trust policies on transport,
# source IP and external id), AWS's MFA example does not lock out a
# long-term key, signatures must cover the body, and IAM database auth
# tokens are refused when over-long or for another host. Sourced by
# run.sh; suite_iam calls it.

# g2_user NAME POLICY_FILE creates user NAME with an inline policy and
# prints "AKID SECRET".
g2_user() {
	local name=$1 file=$2 key
	awsj iam create-user --user-name "$name" >/dev/null || return 1
	awsj iam put-user-policy --user-name "$name" --policy-name p --policy-document "file://$file" >/dev/null || return 1
	key=$(awsj iam create-access-key --user-name "$name") || return 1
	echo "$(json_get "$key" 'd["AccessKey"]["AccessKeyId"]') $(json_get "$key" 'd["AccessKey"]["SecretAccessKey"]')"
}

# g2_denied NAME ARGS... passes when the command fails with an access denial.
g2_denied() {
	local name=$1
	shift
	if "$@" >/dev/null; then
		fail "$name" "succeeded; want AccessDenied"
	elif grep -q 'AccessDenied' "$AWS_ERR"; then
		pass "$name"
	else
		fail "$name" "$(aws_err)"
	fi
}

# g2_ok NAME ARGS... passes when the command succeeds.
g2_ok() {
	local name=$1
	shift
	if "$@" >/dev/null; then
		pass "$name"
	else
		fail "$name" "$(aws_err)"
	fi
}

suite_iam_conditions() {
	section "g2. IAM condition keys with the aws CLI"
	local n=$RANDOM lite="$ARN_PREFIX:lite" value
	value=$(json_get "$(awsj secretsmanager get-secret-value --secret-id "${SECRET_ARN_lite:-sqlgate-e2e-lite}")" 'd["SecretString"]')
	local prod="e2e-prod-$n" plain="e2e-plain-$n"
	awsj secretsmanager create-secret --name "$prod" --secret-string "$value" --tags Key=stage,Value=prod >/dev/null || fail g2.setup "$(aws_err)"
	awsj secretsmanager create-secret --name "$plain" --secret-string "$value" >/dev/null || fail g2.setup "$(aws_err)"
	local prod_arn plain_arn
	prod_arn=$(json_get "$(awsj secretsmanager describe-secret --secret-id "$prod")" 'd["ARN"]')
	plain_arn=$(json_get "$(awsj secretsmanager describe-secret --secret-id "$plain")" 'd["ARN"]')

	# 1. Deny GetSecretValue on a tagged secret, both condition keys.
	cat >"$TMP/g2-tag.json" <<'JSON'
{"Version": "2012-10-17", "Statement": [
 {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DeleteSecret", "rds-data:ExecuteStatement"], "Resource": "*"},
 {"Effect": "Deny", "Action": "secretsmanager:GetSecretValue", "Resource": "*", "Condition": {"StringEquals": {"aws:ResourceTag/stage": "prod"}}},
 {"Effect": "Deny", "Action": "secretsmanager:GetSecretValue", "Resource": "*", "Condition": {"StringEquals": {"secretsmanager:ResourceTag/stage": "prod"}}},
 {"Effect": "Deny", "Action": "secretsmanager:DeleteSecret", "Resource": "*", "Condition": {"Bool": {"secretsmanager:ForceDeleteWithoutRecovery": "true"}}}]}
JSON
	local u akid skey
	u=$(g2_user "e2e-tag-$n" "$TMP/g2-tag.json") || { fail g2.create-user "$(aws_err)"; return; }
	read -r akid skey <<<"$u"
	g2_denied g2.resource-tag-get-secret-value-denied as_user "$akid" "$skey" "" secretsmanager get-secret-value --secret-id "$prod"
	g2_denied g2.resource-tag-data-api-denied as_user "$akid" "$skey" "" rds-data execute-statement \
		--resource-arn "$lite" --secret-arn "$prod_arn" --sql "SELECT 1"
	g2_ok g2.untagged-secret-allowed as_user "$akid" "$skey" "" secretsmanager get-secret-value --secret-id "$plain"
	g2_ok g2.untagged-secret-data-api-allowed as_user "$akid" "$skey" "" rds-data execute-statement \
		--resource-arn "$lite" --secret-arn "$plain_arn" --sql "SELECT 1"

	# 3. Deny DeleteSecret with ForceDeleteWithoutRecovery.
	g2_denied g2.force-delete-denied as_user "$akid" "$skey" "" secretsmanager delete-secret --secret-id "$plain" --force-delete-without-recovery
	g2_ok g2.delete-with-recovery-allowed as_user "$akid" "$skey" "" secretsmanager delete-secret --secret-id "$plain" --recovery-window-in-days 7

	# 2. Deny iam:AttachUserPolicy of Admin* policies: no self-escalation.
	local self="e2e-self-$n"
	cat >"$TMP/g2-attach.json" <<JSON
{"Version": "2012-10-17", "Statement": [
 {"Effect": "Allow", "Action": ["iam:AttachUserPolicy", "iam:ListAttachedUserPolicies"], "Resource": "arn:aws:iam::000000000000:user/\${aws:username}"},
 {"Effect": "Deny", "Action": "iam:AttachUserPolicy", "Resource": "*", "Condition": {"ArnLike": {"iam:PolicyARN": "arn:aws:iam::*:policy/Admin*"}}}]}
JSON
	echo '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}' >"$TMP/g2-admin.json"
	echo '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "secretsmanager:DescribeSecret", "Resource": "*"}]}' >"$TMP/g2-ro.json"
	awsj iam create-policy --policy-name "AdminE2E$n" --policy-document "file://$TMP/g2-admin.json" >/dev/null || fail g2.setup "$(aws_err)"
	awsj iam create-policy --policy-name "ReadOnlyE2E$n" --policy-document "file://$TMP/g2-ro.json" >/dev/null || fail g2.setup "$(aws_err)"
	u=$(g2_user "$self" "$TMP/g2-attach.json") || { fail g2.create-user "$(aws_err)"; return; }
	read -r akid skey <<<"$u"
	g2_denied g2.attach-admin-policy-to-self-denied as_user "$akid" "$skey" "" iam attach-user-policy --user-name "$self" \
		--policy-arn "arn:aws:iam::000000000000:policy/AdminE2E$n"
	g2_ok g2.attach-other-policy-to-self-allowed as_user "$akid" "$skey" "" iam attach-user-policy --user-name "$self" \
		--policy-arn "arn:aws:iam::000000000000:policy/ReadOnlyE2E$n"

	suite_iam_trust "$n"
	suite_iam_mfa "$n"
	suite_iam_unsigned_payload
}

# suite_iam_trust N: trust policies see the AssumeRole request.
suite_iam_trust() {
	local n=$1 u akid skey dev="e2e-dev-$n"
	echo '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}' >"$TMP/g2-dev.json"
	u=$(g2_user "$dev" "$TMP/g2-dev.json") || { fail g2.create-user "$(aws_err)"; return; }
	read -r akid skey <<<"$u"
	local allow="{\"Effect\": \"Allow\", \"Principal\": {\"AWS\": \"arn:aws:iam::000000000000:user/$dev\"}, \"Action\": \"sts:AssumeRole\""
	echo "{\"Version\": \"2012-10-17\", \"Statement\": [$allow}, {\"Effect\": \"Deny\", \"Principal\": \"*\", \"Action\": \"sts:AssumeRole\", \"Condition\": {\"Bool\": {\"aws:SecureTransport\": \"false\"}}}]}" >"$TMP/g2-trust-tls.json"
	echo "{\"Version\": \"2012-10-17\", \"Statement\": [$allow}, {\"Effect\": \"Deny\", \"Principal\": \"*\", \"Action\": \"sts:AssumeRole\", \"Condition\": {\"NotIpAddress\": {\"aws:SourceIp\": \"203.0.113.0/24\"}}}]}" >"$TMP/g2-trust-ip.json"
	echo "{\"Version\": \"2012-10-17\", \"Statement\": [$allow, \"Condition\": {\"StringEquals\": {\"sts:ExternalId\": \"Unique-$n\"}}}]}" >"$TMP/g2-trust-ext.json"
	local r
	for r in tls ip ext; do
		awsj iam create-role --role-name "e2e-$r-$n" --assume-role-policy-document "file://$TMP/g2-trust-$r.json" >/dev/null || fail g2.setup "$(aws_err)"
	done
	local arn="arn:aws:iam::000000000000:role/e2e"
	g2_denied g2.trust-deny-plain-http as_user "$akid" "$skey" "" sts assume-role --role-arn "$arn-tls-$n" --role-session-name s1
	if ENDPOINT=$HTTPS_ENDPOINT AWS_CA_BUNDLE=$DATA/tls-cert.pem as_user "$akid" "$skey" "" sts assume-role --role-arn "$arn-tls-$n" --role-session-name s1 >/dev/null; then
		pass g2.trust-https-allowed
	else
		fail g2.trust-https-allowed "$(aws_err)"
	fi
	g2_denied g2.trust-deny-not-ip-address as_user "$akid" "$skey" "" sts assume-role --role-arn "$arn-ip-$n" --role-session-name s1
	g2_ok g2.trust-external-id-allowed as_user "$akid" "$skey" "" sts assume-role --role-arn "$arn-ext-$n" --role-session-name s1 --external-id "Unique-$n"
	g2_denied g2.trust-wrong-external-id-denied as_user "$akid" "$skey" "" sts assume-role --role-arn "$arn-ext-$n" --role-session-name s1 --external-id "Wrong-$n"
	g2_denied g2.trust-missing-external-id-denied as_user "$akid" "$skey" "" sts assume-role --role-arn "$arn-ext-$n" --role-session-name s1
}

# suite_iam_mfa N: AWS's "deny unless signed in with MFA" example does not
# lock out a user with a long-term access key (the key is absent), as on AWS.
suite_iam_mfa() {
	local n=$1 u akid skey
	cat >"$TMP/g2-mfa.json" <<'JSON'
{"Version": "2012-10-17", "Statement": [
 {"Effect": "Allow", "Action": ["rds-data:ExecuteStatement", "secretsmanager:GetSecretValue"], "Resource": "*"},
 {"Sid": "BlockMostAccessUnlessSignedInWithMFA", "Effect": "Deny",
  "NotAction": ["iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:ListMFADevices", "iam:ListUsers", "sts:GetSessionToken"],
  "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false", "aws:ViaAWSService": "false"}}}]}
JSON
	u=$(g2_user "e2e-mfa-$n" "$TMP/g2-mfa.json") || { fail g2.create-user "$(aws_err)"; return; }
	read -r akid skey <<<"$u"
	g2_ok g2.mfa-example-long-term-key-not-locked-out as_user "$akid" "$skey" "" rds-data execute-statement \
		--resource-arn "$ARN_PREFIX:lite" --secret-arn "${SECRET_ARN_lite:-sqlgate-e2e-lite}" --sql "SELECT 1"
}

# suite_iam_unsigned_payload: a header signature with
# X-Amz-Content-Sha256: UNSIGNED-PAYLOAD (body not covered) is refused.
suite_iam_unsigned_payload() {
	local out
	out=$("$PY" - "$ENDPOINT" <<'PY' 2>&1
import os, sys, urllib.request, urllib.error
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

class Unsigned(SigV4Auth):
    """Signs the literal UNSIGNED-PAYLOAD instead of the body's hash."""
    def payload(self, request):
        return "UNSIGNED-PAYLOAD"

url = sys.argv[1] + "/"
req = AWSRequest(method="POST", url=url, data=b'{"SecretId":"sqlgate-e2e-lite"}',
                 headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "secretsmanager.GetSecretValue",
                          "X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD"})
Unsigned(Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]), "secretsmanager", "us-east-1").add_auth(req)
# The captured signature, replayed with another body.
r = urllib.request.Request(url, data=b'{"SecretId":"sqlgate-e2e-maria"}', headers=dict(req.headers.items()), method="POST")
try:
    with urllib.request.urlopen(r, timeout=30) as resp:
        print("status", resp.status)
except urllib.error.HTTPError as e:
    print("status", e.code, e.read().decode()[:200])
PY
	)
	if [[ $out == "status 400"*InvalidSignatureException* || $out == "status 403"* ]]; then
		pass g2.unsigned-payload-refused
	else
		fail g2.unsigned-payload-refused "$out"
	fi
}

# suite_iam_tokens: IAM database auth tokens that are over-long or for
# another host are refused by psql and the mariadb CLI; a good one works.
# Run after suite_proxy (its secrets and policies exist by then).
suite_iam_tokens() {
	section "g3. IAM auth tokens: lifetime and host"
	local n=$RANDOM u akid skey
	echo '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "rds-db:connect", "Resource": "*"}]}' >"$TMP/g3.json"
	u=$(g2_user "e2e-tok-$n" "$TMP/g3.json") || { fail g3.create-user "$(aws_err)"; return; }
	read -r akid skey <<<"$u"
	sleep 0.3
	local port kind tok out rc
	for kind in pg maria; do
		port=$PG_PROXY_PORT
		[[ $kind == maria ]] && port=$MARIA_PROXY_PORT
		tok=$(AWS_ACCESS_KEY_ID=$akid AWS_SECRET_ACCESS_KEY=$skey timeout 60 aws rds generate-db-auth-token \
			--hostname 127.0.0.1 --port "$port" --username sqlgate --region us-east-1 2>"$AWS_ERR")
		g3_try "g3.$kind.good-token" ok "$kind" "$tok"
		tok=$(AWS_ACCESS_KEY_ID=$akid AWS_SECRET_ACCESS_KEY=$skey timeout 60 aws rds generate-db-auth-token \
			--hostname db.elsewhere.example --port "$port" --username sqlgate --region us-east-1 2>"$AWS_ERR")
		g3_try "g3.$kind.foreign-host-token-refused" refused "$kind" "$tok"
		# generate-db-auth-token always signs 900 s; sign a week as botocore's presigner allows.
		tok=$(AWS_ACCESS_KEY_ID=$akid AWS_SECRET_ACCESS_KEY=$skey "$PY" - "127.0.0.1:$port" <<'PY'
import sys, botocore.session
from botocore.awsrequest import prepare_request_dict
c = botocore.session.get_session().create_client("rds", region_name="us-east-1")
rd = {"url_path": "/", "query_string": "", "headers": {}, "body": {"Action": "connect", "DBUser": "sqlgate"}, "method": "GET"}
prepare_request_dict(rd, "https://" + sys.argv[1])
url = c._request_signer.generate_presigned_url(operation_name="connect", request_dict=rd, region_name="us-east-1",
                                               expires_in=604800, signing_name="rds-db")
print(url[len("https://"):])
PY
		)
		if [[ $tok == *X-Amz-Expires=604800* ]]; then
			g3_try "g3.$kind.week-long-token-refused" refused "$kind" "$tok"
		else
			fail "g3.$kind.week-long-token-refused" "could not sign: $tok"
		fi
	done
}

# g3_try NAME ok|refused pg|maria TOKEN
g3_try() {
	local name=$1 want=$2 kind=$3 tok=$4 out rc=0
	if [[ $kind == pg ]]; then
		out=$(proxy_psql "$tok" require -c 'select 1') || rc=$?
	else
		out=$(proxy_mariadb "$tok" --ssl -e 'select 1') || rc=$?
	fi
	if [[ $want == ok ]]; then
		expect_out "$name" 1 "$out" "$rc"
	elif [[ $kind == pg ]]; then
		expect_refused "$name" 'password authentication failed' "$out" "$rc"
	else
		expect_refused "$name" 'ERROR 1045' "$out" "$rc"
	fi
}
