# suite_iam.sh: suite g, identity and access with the aws CLI:
# create a user and key, put the seeds' least-privilege policy, then with
# the new key a Data API call works and DeleteSecret is denied; assume a
# role and call the Data API with the temporary credentials. Sourced by run.sh.

# as_user AKID SECRET [TOKEN] ARGS... runs awsj with other credentials.
as_user() {
	local akid=$1 secret=$2 token=$3
	shift 3
	AWS_ACCESS_KEY_ID=$akid AWS_SECRET_ACCESS_KEY=$secret AWS_SESSION_TOKEN=$token awsj "$@"
}

suite_iam() {
	section "g. IAM and STS with the aws CLI"
	local user="e2e-fn-$RANDOM" cluster="$ARN_PREFIX:lite" secret="${SECRET_ARN_lite:-sqlgate-e2e-lite}"
	local secret_arn
	secret_arn=$(json_get "$(awsj secretsmanager describe-secret --secret-id "$secret")" 'd["ARN"]')
	if ! awsj iam create-user --user-name "$user" >/dev/null; then
		fail g.create-user "$(aws_err)"
		return
	fi
	pass g.create-user
	local key akid skey
	key=$(awsj iam create-access-key --user-name "$user") || { fail g.create-access-key "$(aws_err)"; return; }
	akid=$(json_get "$key" 'd["AccessKey"]["AccessKeyId"]')
	skey=$(json_get "$key" 'd["AccessKey"]["SecretAccessKey"]')
	[[ -n $akid && -n $skey ]] && pass g.create-access-key || fail g.create-access-key "$key"
	cat >"$TMP/seed-policy.json" <<JSON
{"Version": "2012-10-17",
 "Statement": [
  {"Effect": "Allow",
   "Action": ["rds-data:ExecuteStatement", "rds-data:BatchExecuteStatement", "rds-data:BeginTransaction",
              "rds-data:CommitTransaction", "rds-data:RollbackTransaction"],
   "Resource": "$cluster"},
  {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": "${secret_arn%-*}-*"}]}
JSON
	if awsj iam put-user-policy --user-name "$user" --policy-name data --policy-document "file://$TMP/seed-policy.json" >/dev/null; then
		pass g.put-user-policy
	else
		fail g.put-user-policy "$(aws_err)"
	fi
	sleep 0.2
	local out
	if out=$(as_user "$akid" "$skey" "" rds-data execute-statement --resource-arn "$cluster" --secret-arn "$secret_arn" --sql "SELECT 1 AS one") &&
		json_eq "$(json_get "$out" 'd["records"]')" '[[{"longValue": 1}]]'; then
		pass g.user-execute-statement
	else
		fail g.user-execute-statement "$out $(aws_err)"
	fi
	if as_user "$akid" "$skey" "" secretsmanager delete-secret --secret-id "$secret_arn" >/dev/null; then
		fail g.user-delete-secret-denied "DeleteSecret succeeded with the least-privilege key"
	elif grep -q AccessDeniedException "$AWS_ERR"; then
		pass g.user-delete-secret-denied
	else
		fail g.user-delete-secret-denied "$(aws_err)"
	fi
	if as_user "$akid" "$skey" "" rds-data execute-statement --resource-arn "$ARN_PREFIX:maria" --secret-arn "$secret_arn" --sql "SELECT 1" >/dev/null; then
		fail g.user-other-cluster-denied "another cluster was allowed"
	elif grep -q AccessDeniedException "$AWS_ERR"; then
		pass g.user-other-cluster-denied
	else
		fail g.user-other-cluster-denied "$(aws_err)"
	fi
	suite_iam_role "$user" "$cluster" "$secret_arn"
	suite_iam_conditions
}

# suite_iam_role USER CLUSTER SECRET_ARN: assume a role as root, then call
# the Data API with the temporary credentials.
suite_iam_role() {
	local user=$1 cluster=$2 secret_arn=$3 role="e2e-role-$RANDOM"
	cat >"$TMP/trust.json" <<JSON
{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "sts:AssumeRole"}]}
JSON
	cat >"$TMP/role-policy.json" <<JSON
{"Version": "2012-10-17", "Statement": [
 {"Effect": "Allow", "Action": "rds-data:ExecuteStatement", "Resource": "$cluster"},
 {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "$secret_arn"}]}
JSON
	if awsj iam create-role --role-name "$role" --assume-role-policy-document "file://$TMP/trust.json" >/dev/null &&
		awsj iam put-role-policy --role-name "$role" --policy-name data --policy-document "file://$TMP/role-policy.json" >/dev/null; then
		pass g.create-role
	else
		fail g.create-role "$(aws_err)"
		return
	fi
	local creds akid skey token out
	creds=$(awsj sts assume-role --role-arn "arn:aws:iam::000000000000:role/$role" --role-session-name e2e) || { fail g.assume-role "$(aws_err)"; return; }
	akid=$(json_get "$creds" 'd["Credentials"]["AccessKeyId"]')
	skey=$(json_get "$creds" 'd["Credentials"]["SecretAccessKey"]')
	token=$(json_get "$creds" 'd["Credentials"]["SessionToken"]')
	[[ -n $token ]] && pass g.assume-role || fail g.assume-role "$creds"
	if out=$(as_user "$akid" "$skey" "$token" sts get-caller-identity) && [[ $(json_get "$out" 'd["Arn"]') == *":assumed-role/$role/e2e" ]]; then
		pass g.get-caller-identity
	else
		fail g.get-caller-identity "$out $(aws_err)"
	fi
	if out=$(as_user "$akid" "$skey" "$token" rds-data execute-statement --resource-arn "$cluster" --secret-arn "$secret_arn" --sql "SELECT 2 AS two") &&
		json_eq "$(json_get "$out" 'd["records"]')" '[[{"longValue": 2}]]'; then
		pass g.role-execute-statement
	else
		fail g.role-execute-statement "$out $(aws_err)"
	fi
	if as_user "$akid" "$skey" "" rds-data execute-statement --resource-arn "$cluster" --secret-arn "$secret_arn" --sql "SELECT 1" >/dev/null; then
		fail g.role-without-token-denied "temporary credentials worked without the session token"
	else
		pass g.role-without-token-denied
	fi
}
