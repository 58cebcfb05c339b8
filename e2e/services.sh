#!/usr/bin/env bash
# services.sh starts MariaDB and PostgreSQL when they are down and creates the
# test user and databases that the Go tests and the e2e suite use. It is
# idempotent and never relies on state left by an earlier run (the machine
# may have been used before): the user's password is reset, sqlgate_test is
# created when missing and sqlgate_e2e is dropped and created anew.
#
# Usage: e2e/services.sh            (as root, no stdin needed)
set -euo pipefail

readonly DB_USER=sqlgate
readonly DB_PASS=sqlgatepw
readonly WAIT_SECONDS=${SQLGATE_SERVICE_WAIT:-60}

log() { printf 'services: %s\n' "$*" >&2; }

# wait_for NAME CMD... runs CMD once a second until it succeeds or
# WAIT_SECONDS pass.
wait_for() {
	local name=$1 i
	shift
	for ((i = 0; i < WAIT_SECONDS; i++)); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 1
	done
	log "$name not ready after ${WAIT_SECONDS}s"
	return 1
}

mariadb_up() { mariadb-admin --connect-timeout=2 ping; }
pg_up() { pg_isready -q -t 2 -h 127.0.0.1 -p 5432; }

start_mariadb() {
	if mariadb_up >/dev/null 2>&1; then
		log "MariaDB is up"
		return 0
	fi
	log "starting MariaDB"
	install -d -o mysql -g mysql /run/mysqld
	start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
	wait_for MariaDB mariadb_up
	log "MariaDB started"
}

start_postgres() {
	if pg_up; then
		log "PostgreSQL is up"
		return 0
	fi
	log "starting PostgreSQL"
	local ver
	ver=$(ls /etc/postgresql | sort -V | tail -n1)
	pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
	wait_for PostgreSQL pg_up
	log "PostgreSQL started"
}

setup_mariadb() {
	mariadb --connect-timeout=5 -u root <<SQL
CREATE USER IF NOT EXISTS '${DB_USER}'@'%' IDENTIFIED BY '${DB_PASS}';
CREATE USER IF NOT EXISTS '${DB_USER}'@'localhost' IDENTIFIED BY '${DB_PASS}';
ALTER USER '${DB_USER}'@'%' IDENTIFIED BY '${DB_PASS}';
ALTER USER '${DB_USER}'@'localhost' IDENTIFIED BY '${DB_PASS}';
GRANT ALL ON *.* TO '${DB_USER}'@'%' WITH GRANT OPTION;
GRANT ALL ON *.* TO '${DB_USER}'@'localhost' WITH GRANT OPTION;
FLUSH PRIVILEGES;
CREATE DATABASE IF NOT EXISTS sqlgate_test;
DROP DATABASE IF EXISTS sqlgate_e2e;
CREATE DATABASE sqlgate_e2e;
DROP DATABASE IF EXISTS simple_db;
SQL
	# Prove the password login over TCP works, as sqlgate will use it.
	mariadb --connect-timeout=5 -h 127.0.0.1 -P 3306 -u "$DB_USER" -p"$DB_PASS" \
		-e 'SELECT 1' sqlgate_e2e >/dev/null
	log "MariaDB user ${DB_USER}, databases sqlgate_test and sqlgate_e2e ready"
}

setup_postgres() {
	local psql=(env PGOPTIONS=--client-min-messages=warning psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p 5432 -U postgres -d postgres)
	"${psql[@]}" <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${DB_USER}') THEN
    CREATE ROLE ${DB_USER} LOGIN SUPERUSER PASSWORD '${DB_PASS}';
  END IF;
END
\$\$;
ALTER ROLE ${DB_USER} LOGIN SUPERUSER PASSWORD '${DB_PASS}';
SELECT 'CREATE DATABASE sqlgate_test OWNER ${DB_USER}'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'sqlgate_test') \gexec
DROP DATABASE IF EXISTS sqlgate_e2e WITH (FORCE);
CREATE DATABASE sqlgate_e2e OWNER ${DB_USER};
SQL
	PGPASSWORD=$DB_PASS psql -X -q -h 127.0.0.1 -p 5432 -U "$DB_USER" -d sqlgate_e2e \
		-c 'SELECT 1' >/dev/null
	log "PostgreSQL role ${DB_USER}, databases sqlgate_test and sqlgate_e2e ready"
}

main() {
	if [[ $(id -u) -ne 0 ]]; then
		log "warning: not root; starting services may fail"
	fi
	start_mariadb
	start_postgres
	setup_mariadb
	setup_postgres
}

main "$@"
