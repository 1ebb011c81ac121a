#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the `postgres`-marked tests.
#
#   tests/tools/pg_cluster.sh start DIR   initdb in DIR, listen on 127.0.0.1 only (free port, no unix
#                                   socket outside DIR), create database atlas_test, print its URL
#   tests/tools/pg_cluster.sh stop DIR    stop the server and delete DIR
#   tests/tools/pg_cluster.sh pause DIR S stop the server, wait S seconds, start it again (same
#                                   port and data: a database restart in the middle of a run)
#
# As root the server runs as user `postgres` (PostgreSQL refuses to run as root). Trust auth is
# fine here: loopback only, a temp directory, stopped and deleted after the tests.
set -euo pipefail

cmd=${1:?usage: pg_cluster.sh start|stop DIR}
dir=${2:?usage: pg_cluster.sh start|stop DIR}

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ]; then
  bindir=$(dirname "$(command -v initdb || echo /nonexistent/initdb)")
fi
if [ "$(id -u)" = 0 ]; then
  as_pg=(runuser -u postgres --)
else
  as_pg=()
fi

case "$cmd" in
start)
  [ -x "$bindir/initdb" ] || { echo "pg_cluster: no PostgreSQL binaries found" >&2; exit 1; }
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "${as_pg[@]}" "$bindir/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-sync \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  echo "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c full_page_writes=off" \
    >"$dir/options"
  "${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "$(cat "$dir/options")" start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  "${as_pg[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres atlas_test
  echo "postgresql+psycopg://postgres@127.0.0.1:$port/atlas_test"
  ;;
pause)
  seconds=${3:?usage: pg_cluster.sh pause DIR SECONDS}
  "${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  sleep "$seconds"
  "${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "$(cat "$dir/options")" start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  ;;
stop)
  if [ -d "$dir/data" ]; then
    "${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: pg_cluster.sh start|stop|pause DIR [SECONDS]" >&2
  exit 2
  ;;
esac
