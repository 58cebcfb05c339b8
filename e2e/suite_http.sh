# suite_http.sh: suite e (HTTP error cases: unsigned, wrong keys, oversize
# body, malformed requests; the server must keep serving) and suite f (HTTPS
# with the self-signed certificate generated into the data dir).
# Sourced by run.sh.

# http_call URL SIGN SERVICE BODY_FILE [Header: value ...] POSTs BODY_FILE with
# curl, signed by sign.py when SIGN is 1, and sets HTTP_STATUS, HTTP_ETYPE (the
# x-amzn-ErrorType header up to its first colon) and HTTP_BODY.
http_call() {
	local url=$1 sign=$2 service=$3 body=$4
	shift 4
	local hdrs=$TMP/req-headers
	HTTP_STATUS=000 HTTP_ETYPE="" HTTP_BODY=""
	if [[ $sign == 1 ]]; then
		"${PY:-python3}" "$E2E_DIR/sign.py" "$url" "$service" "$body" "$@" >"$hdrs" || return 0
	else
		printf '%s\n' "$@" >"$hdrs"
	fi
	: >"$TMP/resp-headers"
	: >"$TMP/resp-body"
	HTTP_STATUS=$(curl -sS -o "$TMP/resp-body" -D "$TMP/resp-headers" -w '%{http_code}' \
		--max-time 60 -X POST -H @"$hdrs" --data-binary @"$body" "$url" 2>"$TMP/curl.err") || true
	HTTP_ETYPE=$(grep -i '^x-amzn-errortype:' "$TMP/resp-headers" | head -n1 | cut -d: -f2- | tr -d ' \r' | cut -d: -f1 || true)
	HTTP_BODY=$(head -c 400 "$TMP/resp-body" | tr '\n' ' ')
}

# expect_status NAME STATUS_REGEX ETYPE_REGEX: checks the last http_call.
expect_status() {
	local name=$1 st=$2 et=$3
	if [[ $HTTP_STATUS =~ ^($st)$ && $HTTP_ETYPE =~ ^($et)$ ]]; then
		pass "$name (HTTP $HTTP_STATUS ${HTTP_ETYPE:-no x-amzn-ErrorType})"
	else
		fail "$name" "got HTTP $HTTP_STATUS x-amzn-ErrorType='$HTTP_ETYPE' body=$HTTP_BODY $(tr '\n' ' ' <"$TMP/curl.err" 2>/dev/null), want HTTP $st type $et"
	fi
}

expect_healthz() {
	local name=$1 url=$2 out
	shift 2
	if out=$(curl -fsS --max-time 5 "$@" "$url") && python3 -c 'import json,sys; json.loads(sys.argv[1])' "$out" 2>/dev/null; then
		pass "$name"
	else
		fail "$name" "GET $url: ${out:-no answer}"
	fi
}

suite_http_errors() {
	section "e. HTTP error cases"
	local lite="$ARN_PREFIX:lite" small=$TMP/small.json big=$TMP/big.json
	printf '{"resourceArn":"%s","secretArn":"%s","sql":"SELECT 1"}' "$lite" "${SECRET_ARN_lite:-sqlgate-e2e-lite}" >"$small"
	printf '{}' >"$TMP/empty.json"
	printf '{"Name": ' >"$TMP/malformed.json"

	http_call "$ENDPOINT/Execute" 0 rds-data "$small" "Content-Type: application/json"
	expect_status e.unsigned-dataapi '4[0-9][0-9]' 'MissingAuthenticationTokenException|IncompleteSignatureException'
	http_call "$ENDPOINT/" 0 secretsmanager "$TMP/empty.json" \
		"Content-Type: application/x-amz-json-1.1" "X-Amz-Target: secretsmanager.ListSecrets"
	expect_status e.unsigned-secretsmanager '4[0-9][0-9]' 'MissingAuthenticationTokenException|IncompleteSignatureException'

	# Control: the same signer and sender succeed on a valid request.
	http_call "$ENDPOINT/Execute" 1 rds-data "$small" "Content-Type: application/json"
	expect_status e.signed-control 200 '.*'

	AWS_ACCESS_KEY_ID=AKIAE2EWRONGKEY00000 expect_aws_error e.wrong-access-key-secretsmanager \
		UnrecognizedClientException secretsmanager list-secrets
	AWS_ACCESS_KEY_ID=AKIAE2EWRONGKEY00000 expect_aws_error e.wrong-access-key-dataapi \
		UnrecognizedClientException rds-data execute-statement --resource-arn "$lite" \
		--secret-arn "${SECRET_ARN_lite:-sqlgate-e2e-lite}" --sql "SELECT 1"
	AWS_SECRET_ACCESS_KEY=wrong-secret-key-for-e2e expect_aws_error e.wrong-secret-key \
		'InvalidSignatureException|SignatureDoesNotMatch' secretsmanager list-secrets

	# 5 MiB body, signed like the aws CLI: over the 4 MiB limit, nothing runs.
	python3 - "$big" "$lite" "${SECRET_ARN_lite:-sqlgate-e2e-lite}" <<'PY'
import json, sys
path, arn, secret = sys.argv[1:]
body = {"resourceArn": arn, "secretArn": secret,
        "sql": "SELECT '" + "x" * (5 << 20) + "'"}
open(path, "w").write(json.dumps(body))
PY
	http_call "$ENDPOINT/Execute" 1 rds-data "$big" "Content-Type: application/json"
	expect_status e.oversize-body-5MiB 413 '.*'

	http_call "$ENDPOINT/" 1 secretsmanager "$TMP/malformed.json" \
		"Content-Type: application/x-amz-json-1.1" "X-Amz-Target: secretsmanager.CreateSecret"
	expect_status e.malformed-json '4[0-9][0-9]' '.+'
	http_call "$ENDPOINT/" 1 secretsmanager "$TMP/empty.json" \
		"Content-Type: application/x-amz-json-1.1" "X-Amz-Target: secretsmanager.NoSuchOperation"
	expect_status e.unknown-target '4[0-9][0-9]' '.+'
	http_call "$ENDPOINT/Execute" 1 rds-data "$TMP/empty.json" "Content-Type: application/json"
	expect_status e.missing-fields '4[0-9][0-9]' '.+'

	expect_healthz e.healthz-after-errors "$ENDPOINT/healthz"
}

suite_https() {
	section "f. HTTPS with a generated certificate"
	local cert=$DATA/tls-cert.pem
	if [[ -s $cert ]]; then
		pass f.self-signed-cert-in-data-dir
	else
		fail f.self-signed-cert-in-data-dir "no $cert; data dir has: $(ls "$DATA" | tr '\n' ' ')"
		return 0
	fi
	if ! wait_http "$HTTPS_ENDPOINT/healthz" 10 --cacert "$cert"; then
		fail f.https-healthz "no answer on $HTTPS_ENDPOINT/healthz: $(curl -sS --max-time 5 --cacert "$cert" "$HTTPS_ENDPOINT/healthz" 2>&1 | head -c 300)"
		return 0
	fi
	pass f.https-healthz
	ENDPOINT=$HTTPS_ENDPOINT AWS_CA_BUNDLE=$cert expect_json f.aws-ca-bundle-list-secrets \
		'any(x["Name"] == env["E2E_S"] for x in d["SecretList"])' secretsmanager list-secrets
	ENDPOINT=$HTTPS_ENDPOINT AWS_CA_BUNDLE=$cert expect_json f.aws-ca-bundle-execute-statement \
		'd["records"] == [[{"longValue": 1}]]' rds-data execute-statement \
		--resource-arn "$ARN_PREFIX:lite" --secret-arn "${SECRET_ARN_lite:-sqlgate-e2e-lite}" --sql "SELECT 1"
	if ENDPOINT=$HTTPS_ENDPOINT awsj secretsmanager list-secrets >/dev/null; then
		fail f.untrusted-without-ca-bundle "the aws CLI trusted the self-signed certificate without AWS_CA_BUNDLE"
	elif grep -qiE 'ssl|certificate' "$AWS_ERR"; then
		pass f.untrusted-without-ca-bundle
	else
		fail f.untrusted-without-ca-bundle "unexpected error: $(aws_err)"
	fi
}
