# suite_proxy_isolation.sh: session isolation through the PostgreSQL proxy
# (docs/proxy.md, "Session isolation"), with real clients against the
# binary run.sh started: the cross-talk churn with psycopg2 and with
# node-postgres (no client ever gets another's reply or settings), and the
# psql case of a client that creates a temporary table and switches role
# inside a DO block while another client connects. Sourced by run.sh,
# called from suite_proxy.

suite_proxy_pg_isolation() {
	suite_proxy_pg_churn psycopg2 default "$PG_PROXY_PORT"
	suite_proxy_pg_churn psycopg2 strict "$PG_STRICT_PROXY_PORT"
	suite_proxy_pg_churn node-postgres default "$PG_PROXY_PORT"
	suite_proxy_pg_churn node-postgres strict "$PG_STRICT_PROXY_PORT"
	suite_proxy_pg_temp_role "$PG_PROXY_PORT" default
	suite_proxy_pg_temp_role "$PG_STRICT_PROXY_PORT" strict
}

# suite_proxy_pg_churn DRIVER MODE PORT runs the cross-talk churn for 8 s.
suite_proxy_pg_churn() {
	local out rc=0 cmd=(/usr/bin/python3 "$E2E_DIR/proxy_crosstalk_pg.py")
	[[ $1 == node-postgres ]] && cmd=(node proxy_crosstalk_pg.mjs)
	out=$(cd "$E2E_DIR" && PROXY_PORT=$3 PGUSER=sqlgate PGPASSWORD=sqlgatepw DB_NAME=sqlgate_e2e CHURN_SECONDS=8 \
		LABEL="h.pg.crosstalk.$1.$2" timeout 120 "${cmd[@]}" 2>&1) || rc=$?
	printf '%s\n' "$out" | grep -v '^PASS \|^FAIL ' >&2 || true
	printf '%s\n' "$out" | grep '^PASS \|^FAIL ' || true
	tally_output "h.pg.crosstalk.$1.$2" "$rc" "$out"
}

# suite_proxy_pg_temp_role PORT MODE: client A (one psql session, kept open) runs
# SELECT ... INTO TEMP t and DO $$BEGIN EXECUTE 'SET ROLE some_role'; END$$;
# client B, a new psql on the same proxy, must run as sqlgate and read the
# public table t, not A's temporary one; A keeps its own state; after A
# leaves, a new client is clean too.
suite_proxy_pg_temp_role() {
	local port=$1 mode=$2 t="e2e_iso_$RANDOM" dir="$TMP/iso_a_$2" out rc i a_pid
	PGPASSWORD=sqlgatepw timeout 30 psql -X -q -v ON_ERROR_STOP=1 "host=127.0.0.1 port=5432 user=sqlgate dbname=sqlgate_e2e" \
		-c "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'some_role') THEN CREATE ROLE some_role; END IF; END\$\$" \
		-c "CREATE TABLE $t (s text)" -c "INSERT INTO $t VALUES ('public')" -c "GRANT SELECT ON $t TO some_role" >/dev/null 2>&1 || true
	rm -rf "$dir" && mkdir -p "$dir" && mkfifo "$dir/in"
	# A reads its commands from the fifo; fd 7 keeps it open until A quits.
	PGPASSWORD=sqlgatepw PGCONNECT_TIMEOUT=10 timeout 120 psql -X -A -t -q \
		"host=127.0.0.1 port=$port user=sqlgate dbname=sqlgate_e2e sslmode=disable" <"$dir/in" >"$dir/out" 2>&1 &
	a_pid=$!
	exec 7>"$dir/in"
	printf '%s\n' "SELECT 'a' AS s INTO TEMP $t;" "DO \$\$BEGIN EXECUTE 'SET ROLE some_role'; END\$\$;" \
		"SELECT 'A-ready';" >&7
	for ((i = 0; i < 100; i++)); do
		grep -q 'A-ready' "$dir/out" 2>/dev/null && break
		sleep 0.1
	done
	rc=0 && out=$(PG_PROXY_PORT=$port proxy_psql sqlgatepw disable -c "SELECT current_user || ':' || (SELECT string_agg(s, ',') FROM $t)") || rc=$?
	expect_out "h.pg.isolation.$mode.other-client-clean" "sqlgate:public" "$out" "$rc"
	printf '%s\n' "SELECT 'A:' || current_user || ':' || (to_regclass('pg_temp.$t') IS NOT NULL);" "\\q" >&7
	exec 7>&-
	wait "$a_pid" || true
	out=$(grep '^A:' "$dir/out" || cat "$dir/out")
	expect_out "h.pg.isolation.$mode.own-state-kept" "A:some_role:true" "$out" 0
	rc=0 && out=$(PG_PROXY_PORT=$port proxy_psql sqlgatepw disable -c "SELECT current_user || ':' || (SELECT string_agg(s, ',') FROM $t)" \
		-c "SELECT count(*) FROM pg_class WHERE relpersistence = 't' AND pg_table_is_visible(oid)") || rc=$?
	expect_out "h.pg.isolation.$mode.after-pinned-client-left" "sqlgate:public"$'\n'"0" "$out" "$rc"
	proxy_psql sqlgatepw disable -c "DROP TABLE $t" >/dev/null || true
}
