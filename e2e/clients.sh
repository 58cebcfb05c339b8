#!/usr/bin/env bash
# Installs the database clients and client libraries the Go tests and the
# e2e suites drive, when they are missing: psql and the mariadb CLI come
# with the services; psycopg2 and pymysql for /usr/bin/python3 come from
# Debian (there is no PyPI here); the npm packages (AWS SDK v3,
# data-api-client, drizzle-orm, node-postgres) come from e2e/package-lock.json.
# Under SQLGATE_REQUIRE_DB=1 a test whose client is still missing fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

pkgs=()
/usr/bin/python3 -c 'import pymysql' 2>/dev/null || pkgs+=(python3-pymysql)
/usr/bin/python3 -c 'import psycopg2' 2>/dev/null || pkgs+=(python3-psycopg2)
if ((${#pkgs[@]} > 0)); then
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
		echo "clients: installing ${pkgs[*]}"
		log=$(mktemp)
		{ timeout 300 apt-get update -q && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q "${pkgs[@]}"; } >"$log" 2>&1 ||
			echo "clients: apt-get failed: $(tail -n 5 "$log")" >&2
		rm -f "$log"
	else
		echo "clients: missing ${pkgs[*]} (install them with apt-get)" >&2
	fi
fi

if command -v npm >/dev/null && { [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules ]]; }; then
	echo "clients: npm ci in e2e/"
	NO_UPDATE_NOTIFIER=1 timeout 300 npm ci --no-audit --no-fund --loglevel=error
	touch node_modules
fi
echo "clients: ready"
