#!/usr/bin/env bash
# replicas.sh runs a replicated test topology on this machine, beside (never
# touching) the shared servers on 3306 and 5432: a MariaDB primary and a
# replica (binlog, GTID, semi-sync with AFTER_SYNC) and a PostgreSQL primary
# with a synchronous streaming replica (pg_basebackup -R). Everything lives
# under $SQLGATE_REPLICAS_DIR (default /tmp/sqlgate-replicas) and listens on
# 127.0.0.1 only. The sqlgate user (password sqlgatepw) and the database
# sqlgate_test exist on both primaries and reach the replicas by replication;
# on MariaDB so does sqlgate_app (same password, rights on sqlgate_test only,
# so the replica's read_only applies to it).
#
# Usage: e2e/replicas.sh COMMAND [mariadb|postgres|all]
#   start    create what is missing, start what is down, and rebuild a replica
#            that no longer follows its primary (after promote); prints the
#            SQLGATE_TEST_REPLICA_* variables on stdout: eval "$(… start)"
#   env      print those variables only
#   stop     stop every server and delete the directory
#   promote  make the replica a writer (pg_ctl promote; MariaDB STOP SLAVE,
#            RESET SLAVE ALL, read_only=0); the next start rebuilds it
#   kill     ENGINE primary|replica: stop one server at once (crash-like)
#   pause    stop applying replication on the replica (lag builds up)
#   resume   apply again
#
# Runs as root (PostgreSQL then runs as the postgres user and MariaDB as
# mysql) or as an ordinary user (both run as that user). Every wait is
# bounded by SQLGATE_REPLICAS_WAIT seconds (default 30).
set -euo pipefail

readonly BASE=${SQLGATE_REPLICAS_DIR:-/tmp/sqlgate-replicas}
readonly MY_PRIMARY_PORT=${SQLGATE_REPLICAS_MYSQL_PORT:-13306}
readonly MY_REPLICA_PORT=$((MY_PRIMARY_PORT + 1))
readonly PG_PRIMARY_PORT=${SQLGATE_REPLICAS_PG_PORT:-15432}
readonly PG_REPLICA_PORT=$((PG_PRIMARY_PORT + 1))
readonly WAIT=${SQLGATE_REPLICAS_WAIT:-30}
readonly PGBIN=${SQLGATE_PGBIN:-/usr/lib/postgresql/15/bin}
readonly DB_USER=sqlgate DB_PASS=sqlgatepw
# APP_USER has rights on sqlgate_test only: unlike DB_USER (ALL ON *.*,
# which includes READ_ONLY ADMIN), read_only applies to it on a replica.
readonly APP_USER=sqlgate_app
readonly PG_APP=sqlgate_replica
SCRIPT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
readonly SCRIPT

log() { printf 'replicas: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 1
}

# wait_for WHAT CMD... runs CMD every 0.2 s until it succeeds or WAIT seconds pass.
wait_for() {
	local what=$1 i
	shift
	for ((i = 0; i < WAIT * 5; i++)); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.2
	done
	die "$what not ready after ${WAIT}s"
}

# ---- MariaDB -------------------------------------------------------------

my_dir() { echo "$BASE/mariadb-$1"; }
my_port() { if [[ $1 == primary ]]; then echo "$MY_PRIMARY_PORT"; else echo "$MY_REPLICA_PORT"; fi; }
my_sql() { mariadb --no-defaults --connect-timeout=5 -u root --socket="$(my_dir "$1")/mysqld.sock" -N -B -e "$2"; }
my_up() { mariadb-admin --no-defaults --connect-timeout=2 -u root --socket="$(my_dir "$1")/mysqld.sock" ping; }

my_owner() {
	if [[ $(id -u) -eq 0 ]]; then
		chown -R mysql:mysql "$1"
	fi
}

my_user_args() {
	if [[ $(id -u) -eq 0 ]]; then
		echo --user=mysql
	fi
}

my_init() {
	local role=$1 dir
	dir=$(my_dir "$role")
	[[ -d $dir/data/mysql ]] && return 0
	log "mariadb $role: initialising $dir"
	rm -rf "$dir"
	mkdir -p "$dir/data"
	my_owner "$dir"
	# shellcheck disable=SC2046
	mariadb-install-db --no-defaults $(my_user_args) --datadir="$dir/data" \
		--auth-root-authentication-method=socket --skip-test-db >"$dir/install.log" 2>&1 ||
		die "mariadb-install-db failed: $(tail -n 20 "$dir/install.log")"
}

my_start() {
	local role=$1 dir port id
	dir=$(my_dir "$role")
	port=$(my_port "$role")
	my_up "$role" >/dev/null 2>&1 && return 0
	if [[ $role == primary ]]; then id=1; else id=2; fi
	log "mariadb $role: starting on 127.0.0.1:$port"
	# shellcheck disable=SC2046
	# The whole group is redirected: nothing may hold the caller's stdout.
	(cd "$dir" && exec setsid mariadbd --no-defaults $(my_user_args) --datadir="$dir/data" \
		--socket="$dir/mysqld.sock" --pid-file="$dir/mysqld.pid" --log-error="$dir/error.log" \
		--bind-address=127.0.0.1 --port="$port" --server-id="$id" \
		--log-bin=mysql-bin --log-slave-updates --binlog-format=ROW --gtid-strict-mode=ON \
		--rpl-semi-sync-master-enabled="$([[ $role == primary ]] && echo ON || echo OFF)" \
		--rpl-semi-sync-slave-enabled=ON \
		--rpl-semi-sync-master-wait-point=AFTER_SYNC --rpl-semi-sync-master-timeout=5000 \
		--read-only="$([[ $role == replica ]] && echo ON || echo OFF)" \
		--skip-name-resolve --innodb-buffer-pool-size=32M --innodb-log-file-size=16M \
		--performance-schema=OFF --max-connections=60) </dev/null >/dev/null 2>&1 &
	wait_for "mariadb $role" my_up "$role"
}

# my_setup_primary creates the test login and database and makes the
# primary writable again (a test may have demoted it).
my_setup_primary() {
	my_sql primary "
CREATE USER IF NOT EXISTS '$DB_USER'@'%' IDENTIFIED BY '$DB_PASS';
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
GRANT ALL ON *.* TO '$DB_USER'@'%' WITH GRANT OPTION;
GRANT ALL ON *.* TO '$DB_USER'@'localhost' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS sqlgate_test;
CREATE USER IF NOT EXISTS '$APP_USER'@'%' IDENTIFIED BY '$DB_PASS';
GRANT ALL ON sqlgate_test.* TO '$APP_USER'@'%';
SET GLOBAL read_only = OFF;"
}

# my_following reports whether the replica replicates from the primary
# with both threads running.
my_following() {
	local st
	st=$(mariadb --no-defaults --connect-timeout=5 -u root --socket="$(my_dir replica)/mysqld.sock" \
		-e "SHOW SLAVE STATUS\G" 2>/dev/null) || return 1
	grep -q "Master_Port: $MY_PRIMARY_PORT\$" <<<"$st" &&
		grep -q 'Slave_IO_Running: Yes' <<<"$st" &&
		grep -q 'Slave_SQL_Running: Yes' <<<"$st"
}

my_follow() {
	log "mariadb replica: following 127.0.0.1:$MY_PRIMARY_PORT (GTID, semi-sync)"
	my_sql replica "
STOP SLAVE;
CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$MY_PRIMARY_PORT,
  MASTER_USER='$DB_USER', MASTER_PASSWORD='$DB_PASS', MASTER_USE_GTID=slave_pos,
  MASTER_CONNECT_RETRY=1;
SET GLOBAL read_only=ON;
START SLAVE;"
	wait_for "mariadb replication" my_following
}

my_rebuild_replica() {
	log "mariadb replica: rebuilding (it no longer follows the primary)"
	my_kill replica
	rm -rf "$(my_dir replica)"
	my_init replica
	my_start replica
	my_follow
}

my_kill() {
	local pidf
	pidf="$(my_dir "$1")/mysqld.pid"
	[[ -s $pidf ]] || return 0
	local pid
	pid=$(cat "$pidf")
	kill -9 "$pid" 2>/dev/null || true
	wait_for "mariadb $1 to exit" bash -c "! kill -0 $pid 2>/dev/null"
	rm -f "$pidf"
}

mariadb_start() {
	my_init primary
	my_start primary
	# A replica that was promoted no longer acknowledges: the setup's
	# first binlogged statement would wait the whole semi-sync timeout
	# (WAIT seconds, set by my_semisync) before the primary fell back.
	my_sql primary "SET GLOBAL rpl_semi_sync_master_timeout=200"
	my_setup_primary
	my_init replica
	my_start replica
	if ! my_following; then
		# A promoted replica (writable) has diverged: start it from scratch.
		if [[ -e $BASE/mariadb-promoted ]] || [[ $(my_sql replica "SELECT @@read_only") != 1 ]]; then
			rm -f "$BASE/mariadb-promoted"
			my_rebuild_replica
		else
			my_follow
		fi
	fi
	my_semisync
}

# my_semisync makes the primary's commits wait for the replica's
# acknowledgement for up to WAIT seconds (the 5 s it starts with only
# keeps the setup above, run before any replica attached, from stalling)
# and waits until semi-sync is on. A primary under load that waited 5 s
# for an acknowledgement would fall back to asynchronous replication, and
# a failover test would then rightly find acknowledged commits missing.
my_semisync() {
	my_sql primary "SET GLOBAL rpl_semi_sync_master_timeout=$((WAIT * 1000))"
	wait_for "mariadb semi-sync" my_semisync_on
}

# my_semisync_on commits a binlogged no-op (the primary switches semi-sync
# back on at the replica's next acknowledgement) and reports whether it is on.
my_semisync_on() {
	my_sql primary "CREATE DATABASE IF NOT EXISTS sqlgate_test"
	[[ $(my_sql primary "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS
  WHERE VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_STATUS'") == ON ]]
}

# mariadb_promote stops fetching from the primary, waits until the SQL
# thread has applied everything already received (a semi-sync primary
# acknowledged those commits to its clients: STOP SLAVE right away would
# drop them with the relay log), then makes the replica a writer.
mariadb_promote() {
	log "mariadb replica: promoting"
	my_sql replica "STOP SLAVE IO_THREAD"
	local io applied
	io=$(mariadb --no-defaults --connect-timeout=5 -u root --socket="$(my_dir replica)/mysqld.sock" \
		-e "SHOW SLAVE STATUS\G" | sed -n 's/^ *Gtid_IO_Pos: *//p')
	applied=$(my_sql replica "SELECT MASTER_GTID_WAIT('$io', $WAIT)")
	[[ $applied == 0 ]] || die "mariadb replica: relay log not applied up to $io after ${WAIT}s"
	# Semi-sync stays on for a replica that attaches later, but with none
	# attached commits must not wait rpl_semi_sync_master_timeout each.
	my_sql replica "STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only=0;
SET GLOBAL rpl_semi_sync_master_wait_no_slave=OFF; SET GLOBAL rpl_semi_sync_master_enabled=ON;"
	touch "$BASE/mariadb-promoted"
}

mariadb_pause() { my_sql replica "STOP SLAVE SQL_THREAD"; }
mariadb_resume() { my_sql replica "START SLAVE SQL_THREAD"; }
mariadb_stop() {
	my_kill replica
	my_kill primary
}

# ---- PostgreSQL ----------------------------------------------------------

pg_dir() { echo "$BASE/pg-$1"; }
pg_port() { if [[ $1 == primary ]]; then echo "$PG_PRIMARY_PORT"; else echo "$PG_REPLICA_PORT"; fi; }

# as_pg runs a command as the postgres user when root, else as ourselves.
as_pg() {
	if [[ $(id -u) -eq 0 ]]; then
		(cd / && runuser -u postgres -- "$@")
	else
		(cd / && "$@")
	fi
}

# pg_sql ROLE SQL runs SQL as postgres. Its commits do not wait for the
# synchronous standby (which may not exist yet); clients' commits do.
pg_sql() {
	PGOPTIONS='--client-min-messages=warning -c synchronous_commit=local' "$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 \
		-h 127.0.0.1 -p "$(pg_port "$1")" -U postgres -d postgres -c "$2"
}
pg_up() { "$PGBIN/pg_isready" -q -t 2 -h 127.0.0.1 -p "$(pg_port "$1")"; }

pg_mkdir() {
	mkdir -p "$BASE"
	chmod 755 "$BASE"
	rm -rf "$1"
	mkdir -p "$1"
	chmod 700 "$1"
	if [[ $(id -u) -eq 0 ]]; then
		chown postgres:postgres "$1"
	fi
}

pg_init_primary() {
	local dir
	dir=$(pg_dir primary)
	[[ -s $dir/data/PG_VERSION ]] && return 0
	log "postgres primary: initialising $dir"
	pg_mkdir "$dir"
	as_pg "$PGBIN/initdb" -D "$dir/data" -A trust -U postgres --no-sync >"$BASE/pg-initdb.log" 2>&1 ||
		die "initdb failed: $(tail -n 20 "$BASE/pg-initdb.log")"
	as_pg bash -c "cat >>'$dir/data/postgresql.conf'" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PRIMARY_PORT
unix_socket_directories = '$dir'
max_connections = 60
shared_buffers = 16MB
fsync = off
wal_level = replica
max_wal_senders = 4
wal_keep_size = 128MB
hot_standby = on
hot_standby_feedback = on
synchronous_standby_names = '$PG_APP'
CONF
}

pg_start() {
	local role=$1 dir
	dir=$(pg_dir "$role")
	pg_up "$role" && return 0
	log "postgres $role: starting on 127.0.0.1:$(pg_port "$role")"
	as_pg "$PGBIN/pg_ctl" start -D "$dir/data" -l "$dir/server.log" -w -t "$WAIT" >/dev/null ||
		die "postgres $role did not start: $(tail -n 20 "$dir/server.log")"
}

pg_setup_primary() {
	pg_sql primary "DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN
    CREATE ROLE $DB_USER LOGIN SUPERUSER PASSWORD '$DB_PASS';
  END IF; END \$\$;"
	if [[ -z $(pg_sql primary "SELECT 1 FROM pg_database WHERE datname = 'sqlgate_test'") ]]; then
		pg_sql primary "CREATE DATABASE sqlgate_test OWNER $DB_USER"
	fi
}

pg_base_backup() {
	local dir
	dir=$(pg_dir replica)
	log "postgres replica: pg_basebackup -R from 127.0.0.1:$PG_PRIMARY_PORT"
	pg_mkdir "$dir"
	as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$PG_PRIMARY_PORT" -U postgres -D "$dir/data" \
		-R -X stream -c fast --no-sync >"$dir/basebackup.log" 2>&1 ||
		die "pg_basebackup failed: $(tail -n 20 "$dir/basebackup.log")"
	# postgresql.auto.conf is read last: these override the primary's copy.
	as_pg bash -c "cat >>'$dir/data/postgresql.auto.conf'" <<CONF
port = $PG_REPLICA_PORT
unix_socket_directories = '$dir'
primary_conninfo = 'host=127.0.0.1 port=$PG_PRIMARY_PORT user=postgres application_name=$PG_APP'
synchronous_standby_names = ''
CONF
}

pg_streaming() {
	pg_sql primary "SELECT 1 FROM pg_stat_replication WHERE application_name = '$PG_APP'
  AND state = 'streaming' AND sync_state = 'sync'" | grep -qx 1
}

pg_stop() {
	local dir
	dir=$(pg_dir "$1")
	[[ -s $dir/data/postmaster.pid ]] || return 0
	as_pg "$PGBIN/pg_ctl" stop -D "$dir/data" -m "${2:-fast}" -w -t "$WAIT" >/dev/null 2>&1 || true
}

postgres_start() {
	pg_init_primary
	pg_start primary
	pg_setup_primary
	local rdir
	rdir=$(pg_dir replica)
	if [[ ! -e $rdir/data/standby.signal ]]; then
		[[ -d $rdir/data ]] && log "postgres replica: rebuilding (it no longer follows the primary)"
		pg_stop replica immediate
		pg_base_backup
	fi
	pg_start replica
	wait_for "postgres synchronous streaming" pg_streaming
}

postgres_promote() {
	log "postgres replica: promoting"
	as_pg "$PGBIN/pg_ctl" promote -D "$(pg_dir replica)/data" -w -t "$WAIT" >/dev/null
}

postgres_pause() { pg_sql replica "SELECT pg_wal_replay_pause()" >/dev/null; }
postgres_resume() { pg_sql replica "SELECT pg_wal_replay_resume()" >/dev/null; }
postgres_stop() {
	pg_stop replica immediate
	pg_stop primary immediate
}

# ---- commands ------------------------------------------------------------

print_env() {
	cat <<ENV
export SQLGATE_TEST_REPLICA_MYSQL_PRIMARY=127.0.0.1:$MY_PRIMARY_PORT
export SQLGATE_TEST_REPLICA_MYSQL_REPLICA=127.0.0.1:$MY_REPLICA_PORT
export SQLGATE_TEST_REPLICA_PG_PRIMARY=127.0.0.1:$PG_PRIMARY_PORT
export SQLGATE_TEST_REPLICA_PG_REPLICA=127.0.0.1:$PG_REPLICA_PORT
export SQLGATE_TEST_REPLICAS_SCRIPT=$SCRIPT
export SQLGATE_REPLICAS_DIR=$BASE SQLGATE_REPLICAS_MYSQL_PORT=$MY_PRIMARY_PORT SQLGATE_REPLICAS_PG_PORT=$PG_PRIMARY_PORT
ENV
}

# engines turns the optional engine argument into the list to act on.
engines() {
	case ${1:-all} in
	all) echo mariadb postgres ;;
	mariadb | mysql) echo mariadb ;;
	postgres | postgresql) echo postgres ;;
	*) die "unknown engine ${1} (want mariadb, postgres or all)" ;;
	esac
}

main() {
	local cmd=${1:-} e
	# One command at a time per topology: two at once (a test promoting
	# while another start rebuilds the replica) would trample each other's
	# data directories. -o keeps the servers started from holding the lock.
	# (Its own file: tests hold $BASE.lock for as long as they use the
	# topology, and call this script meanwhile.)
	if [[ $cmd != env && -z ${SQLGATE_REPLICAS_LOCKED:-} ]]; then
		SQLGATE_REPLICAS_LOCKED=1 exec flock -o -w $((WAIT * 10)) "$BASE.cmd.lock" bash "$SCRIPT" "$@"
	fi
	[[ $# -gt 0 ]] && shift
	mkdir -p "$BASE"
	chmod 755 "$BASE"
	case $cmd in
	start)
		for e in $(engines "${1:-}"); do "${e}_start"; done
		log "ready"
		print_env
		;;
	env) print_env ;;
	stop)
		for e in $(engines "${1:-}"); do "${e}_stop"; done
		[[ ${1:-all} == all ]] && rm -rf "$BASE"
		log "stopped"
		;;
	promote | pause | resume)
		for e in $(engines "${1:-}"); do "${e}_${cmd}"; done
		;;
	kill)
		[[ ${2:-} == primary || ${2:-} == replica ]] || die "usage: kill ENGINE primary|replica"
		case $(engines "$1") in
		mariadb) my_kill "$2" ;;
		postgres) pg_stop "$2" immediate ;;
		*) die "kill needs one engine" ;;
		esac
		;;
	*) die "usage: $0 start|env|stop|promote|kill|pause|resume [mariadb|postgres|all]" ;;
	esac
}

main "$@"
