# shellcheck shell=bash
# Sourced by the PostgreSQL proxy benchmarks: start_pgbouncer WORK PORT POOL
# runs PgBouncer (the PGBOUNCER binary) in transaction mode in front of
# sqlgate_test on 127.0.0.1:5432, listening on PORT with a pool of POOL
# server connections, its files in WORK; it sets PGBOUNCER_PID. No TLS
# (pgbench runs with PGSSLMODE=disable). PgBouncer refuses to run as root,
# so as root it runs as the postgres OS user.
start_pgbouncer() {
	local work=$1 port=$2 pool=$3
	cat >"$work/pgbouncer.ini" <<INI
[databases]
sqlgate_test = host=127.0.0.1 port=5432 dbname=sqlgate_test
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
auth_type = scram-sha-256
auth_file = $work/userlist.txt
pool_mode = transaction
default_pool_size = $pool
max_client_conn = 10000
logfile = $work/pgbouncer.log
pidfile = $work/pgbouncer.pid
unix_socket_dir =
INI
	# The stored SCRAM verifier (when readable) spares PgBouncer a PBKDF2
	# per client login, which would otherwise count in its CPU per
	# transaction.
	local verifier
	verifier="$(psql -h 127.0.0.1 -U postgres -d postgres -Atc "SELECT rolpassword FROM pg_authid WHERE rolname = 'sqlgate'" 2>/dev/null || true)"
	echo "\"sqlgate\" \"${verifier:-sqlgatepw}\"" >"$work/userlist.txt"
	chmod 600 "$work/userlist.txt"
	if [ "$(id -u)" = 0 ]; then
		chown postgres "$work/pgbouncer.ini" "$work/userlist.txt" && chmod 777 "$work"
		"$PGBOUNCER" -u postgres "$work/pgbouncer.ini" >/dev/null 2>&1 &
	else
		"$PGBOUNCER" "$work/pgbouncer.ini" >/dev/null 2>&1 &
	fi
	PGBOUNCER_PID=$!
}
