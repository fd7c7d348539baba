#!/usr/bin/env bash
# Makes the PostgreSQL server for the test suite available and prints its URL on stdout.
#
#   TRUSTLEDGER_TEST_DATABASE_URL unset (or equal to the local URL below):
#     starts the local Debian cluster on port 5432 if it is down, creates or resets the role
#     trustledger (password trustledger) and the database trustledger_test owned by it, waits
#     for pg_isready and checks a password login over TCP. Safe to run any number of times.
#   TRUSTLEDGER_TEST_DATABASE_URL set to another server:
#     changes nothing; only checks that a login to that URL works.
#
# Exits non-zero with a message saying what to do when PostgreSQL cannot be had: the
# PostgreSQL tests must fail, never skip. Progress goes to stderr, the URL alone to stdout.
set -euo pipefail

readonly HOST=127.0.0.1
readonly PORT=5432
readonly ROLE=trustledger
readonly PASSWORD=trustledger
readonly DATABASE=trustledger_test
readonly LOCAL_URL="postgresql://${ROLE}:${PASSWORD}@${HOST}:${PORT}/${DATABASE}"
readonly READY_TIMEOUT_SECONDS=60
readonly MAX_CONNECTIONS=300

say() { printf 'postgres.sh: %s\n' "$*" >&2; }
fail() {
    printf 'postgres.sh: ERROR: %s\n' "$*" >&2
    printf 'postgres.sh: the PostgreSQL tests cannot run without a server, so this fails.\n' >&2
    exit 1
}

# Logs in with the URL's own password over TCP, which is what the tests will do.
can_log_in() {
    PGCONNECT_TIMEOUT=5 psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$1" -c 'select 1' >/dev/null
}

wait_until_ready() {
    local waited=0
    until pg_isready -q -h "$HOST" -p "$PORT" -t 1; do
        ((waited += 1))
        ((waited < READY_TIMEOUT_SECONDS)) \
            || fail "$HOST:$PORT not ready after ${READY_TIMEOUT_SECONDS}s (pg_isready)."
        sleep 1
    done
}

command -v psql >/dev/null || fail "psql not found (Debian: apt-get install postgresql-client)."

url=${TRUSTLEDGER_TEST_DATABASE_URL:-}
if [[ -n $url && $url != "$LOCAL_URL" ]]; then
    say "TRUSTLEDGER_TEST_DATABASE_URL is set: checking it, changing nothing."
    can_log_in "$url" || fail "cannot log in to the server in TRUSTLEDGER_TEST_DATABASE_URL; start it, or unset the variable to use the local cluster."
    printf '%s\n' "$url"
    exit 0
fi

# Commands as the postgres superuser, over the local socket with peer authentication.
if [[ $EUID -eq 0 ]]; then
    as_postgres() { (cd / && runuser -u postgres -- "$@"); }
    as_root() { "$@"; }
elif sudo -n true 2>/dev/null; then
    as_postgres() { (cd / && sudo -n -u postgres -- "$@"); }
    as_root() { sudo -n -- "$@"; }
else
    fail "setting up the local cluster needs root or password-less sudo; or set TRUSTLEDGER_TEST_DATABASE_URL to a server of your own."
fi

command -v pg_lsclusters >/dev/null \
    || fail "no PostgreSQL server installed (Debian: apt-get install postgresql)."

# pg_lsclusters columns: version, name, port, status, owner, data directory, log file.
cluster=$(pg_lsclusters --no-header | awk -v port="$PORT" '$3 == port { print $1, $2, $4; exit }')
[[ -n $cluster ]] || fail "no PostgreSQL cluster on port $PORT (pg_lsclusters lists none); create one with pg_createcluster."
read -r version name status <<<"$cluster"

if [[ $status == online* ]]; then
    say "cluster $version/$name is running."
else
    say "starting cluster $version/$name ($status)."
    # A cluster started meanwhile by someone else makes the start fail: only a cluster still
    # down afterwards is an error.
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$name" start \
        || pg_lsclusters --no-header "$version" "$name" | awk '{ exit $4 !~ /^online/ }' \
        || fail "cluster $version/$name did not start; see /var/log/postgresql/postgresql-$version-$name.log"
fi

wait_until_ready

# The suite starts many servers and workers, each with its pools: at its peak it holds about 80
# sessions at once, too close to PostgreSQL's default of 100 for a slower machine. A restart is
# what takes a new max_connections.
if (($(as_postgres psql -X -A -t -d postgres -c 'SHOW max_connections') < MAX_CONNECTIONS)); then
    say "raising max_connections to $MAX_CONNECTIONS (a restart)."
    as_postgres psql -X -q -d postgres -c "ALTER SYSTEM SET max_connections = $MAX_CONNECTIONS"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$name" restart \
        || fail "cluster $version/$name did not restart; see /var/log/postgresql/postgresql-$version-$name.log"
    wait_until_ready
fi

say "ensuring role $ROLE and database $DATABASE."
as_postgres psql -X -q -v ON_ERROR_STOP=1 -d postgres <<SQL
DO \$\$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN
        ALTER ROLE $ROLE WITH LOGIN PASSWORD '$PASSWORD';
    ELSE
        CREATE ROLE $ROLE WITH LOGIN PASSWORD '$PASSWORD';
    END IF;
END
\$\$;
SELECT 'CREATE DATABASE $DATABASE OWNER $ROLE'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DATABASE')
\gexec
ALTER DATABASE $DATABASE OWNER TO $ROLE;
SQL

can_log_in "$LOCAL_URL" || fail "role and database exist but a password login over TCP fails (check pg_hba.conf allows scram-sha-256 on $HOST)."
say "ready."
printf '%s\n' "$LOCAL_URL"
