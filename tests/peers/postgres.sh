#!/usr/bin/env bash
# A throw-away PostgreSQL 15 server (Debian's postgresql-15) for the ledger tests, on a
# free loopback port chosen at run time and a unix socket, its data under a temp folder.
#   postgres.sh start DIR    → a new cluster: user `scigate` (CREATEDB, a random password,
#                              SCRAM over TCP), database `scigate`; writes DIR/postgres.env
#   postgres.sh stop DIR     → stops the server (fast shutdown), keeps the data
#   postgres.sh restart DIR  → starts the stopped server again: same data, same port
#   postgres.sh freeze DIR   → SIGSTOPs the server and its backends (a hung server: the
#                              kernel still accepts connections and answers keepalives)
#   postgres.sh thaw DIR     → SIGCONTs them
# DIR/postgres.env: PG_URL=postgresql://scigate@127.0.0.1:PORT/scigate, PG_PASSWORD,
# PG_DIR, PG_PORT, PG_SOCKET_DIR.
# PostgreSQL refuses to run as root: as root, the server runs as Debian's `postgres` user.
set -euo pipefail
cmd=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)
bin=/usr/lib/postgresql/15/bin
data=$dir/data
sock=$dir/sock

as_server_user() {
  if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

server_start() {
  as_server_user "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 start > /dev/null ||
    { echo "postgres.sh: the server did not start; see $dir/server.log" >&2; tail -20 "$dir/server.log" >&2; exit 1; }
}

start() {
  [[ -f "$data/postmaster.pid" ]] && stop
  rm -rf "$data" "$sock" "$dir/postgres.env"
  mkdir -p "$data" "$sock"
  [[ $(id -u) == 0 ]] && chown postgres: "$data" "$sock" "$dir"
  chmod 700 "$data"
  local port password
  port=$(free_port)
  password=$(/usr/bin/python3 -c 'import secrets; print(secrets.token_hex(24))')
  # The superuser (`postgres`) only over the socket in DIR (mode 0700); scigate by password.
  as_server_user "$bin/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 > "$dir/initdb.log"
  cat >> "$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sock'
unix_socket_permissions = 0700
password_encryption = 'scram-sha-256'
max_connections = 200
# Throw-away data: durability on a crash is not what these tests check (a clean stop
# writes everything).
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
  server_start
  # On stdin: the password never shows in a process list or a file.
  printf "CREATE ROLE scigate LOGIN CREATEDB PASSWORD '%s';\nCREATE DATABASE scigate OWNER scigate;\n" "$password" |
    as_server_user "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -U postgres -d postgres > /dev/null
  umask 077
  cat > "$dir/postgres.env" <<ENV
PG_URL=postgresql://scigate@127.0.0.1:$port/scigate
PG_PASSWORD=$password
PG_DIR=$dir
PG_PORT=$port
PG_SOCKET_DIR=$sock
ENV
  echo "url=postgresql://scigate@127.0.0.1:$port/scigate"
}

stop() {
  [[ -f "$data/postmaster.pid" ]] || return 0
  signal_all CONT  # a frozen server cannot stop
  as_server_user "$bin/pg_ctl" -D "$data" -m fast -w -t 60 stop > /dev/null
}

restart() {
  [[ -f "$data/PG_VERSION" ]] || { echo "postgres.sh: no cluster in $dir (run start first)" >&2; exit 1; }
  [[ -f "$data/postmaster.pid" ]] && return 0
  server_start
}

# The postmaster and its children (backends, background workers).
server_pids() {
  local main
  main=$(head -1 "$data/postmaster.pid" 2>/dev/null) || return 0
  echo "$main"
  pgrep -P "$main" || true
}
signal_all() { local pid; for pid in $(server_pids); do kill "-$1" "$pid" 2>/dev/null || true; done; }

case "$cmd" in
  start) start ;;
  stop) stop ;;
  restart) restart ;;
  freeze) signal_all STOP ;;
  thaw) signal_all CONT ;;
  *) echo "usage: postgres.sh start|stop|restart|freeze|thaw DIR" >&2; exit 2 ;;
esac
