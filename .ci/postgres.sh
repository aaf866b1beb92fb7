# Sourced by .ci/run: a throw-away PostgreSQL server on loopback for the tests that need one.
# Installs Debian's `postgresql` if absent, creates a cluster in a temp dir (as the `postgres` user when
# running as root: PostgreSQL refuses to run as root), creates a database and exports
# REPERE_TEST_DATABASE_URL. The server is stopped and its folder removed when the calling shell exits.
# Nothing is done when REPERE_TEST_DATABASE_URL is already set (an existing server is used).
if [ -z "${REPERE_TEST_DATABASE_URL:-}" ]; then
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    PG_SUDO=""
    [ "$(id -u)" -eq 0 ] || PG_SUDO="sudo"
    $PG_SUDO apt-get update -qq
    $PG_SUDO apt-get install -y -qq postgresql >/dev/null
  fi
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  PG_DIR=$(mktemp -d /tmp/repere-pg.XXXXXX)
  PG_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  PG_AS=()
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$PG_DIR"
    PG_AS=(runuser -u postgres --)
  fi
  "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U repere -A trust -E UTF8 >/dev/null
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w start \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR" >/dev/null
  trap '"${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null; rm -rf "$PG_DIR"' EXIT
  "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U repere repere_test
  export REPERE_TEST_DATABASE_URL="postgresql+psycopg://repere@127.0.0.1:$PG_PORT/repere_test"
  echo "PostgreSQL de test : $REPERE_TEST_DATABASE_URL"
fi
