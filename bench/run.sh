#!/usr/bin/env bash
# Benchmark bedrock-pg against PostgreSQL 15 on this machine, in one run, with pgbench:
# scale 10, 8 clients, 2 threads; select-only (simple and prepared) and TPC-B-like, each
# run ROUNDS times (default 3) alternating between the servers, medians reported.
# Prints a table with the ratio bedrock-pg / PostgreSQL. Usage: bench/run.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-30}"
SCALE="${SCALE:-10}"
PGBIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
WORK="$(mktemp -d /tmp/bedrock-bench.XXXXXX)"
chmod 777 "$WORK"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PG_PORT=$(free_port); BR_PORT=$(free_port)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

cleanup() {
    [ -n "${BR_PID:-}" ] && kill "$BR_PID" 2>/dev/null || true
    as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

cargo build --release -q

echo "starting PostgreSQL 15 on $PG_PORT and bedrock-pg on $BR_PORT"
as_pg "$PGBIN/initdb" -D "$WORK/pg" -U postgres --auth=trust --locale=C -E UTF8 >/dev/null
# PostgreSQL with its defaults (fsync and synchronous_commit on), like bedrock-pg's synchronous=full.
as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -w \
    -o "-p $PG_PORT -k $WORK -c listen_addresses=127.0.0.1 -c max_connections=50" start >/dev/null
./target/release/bedrock -db "$WORK/bedrock.db" -serverHost "127.0.0.1:$BR_PORT" 2>"$WORK/bedrock.log" &
BR_PID=$!
for _ in $(seq 100); do pg_isready -q -h 127.0.0.1 -p "$BR_PORT" && break; sleep 0.1; done

bench() { # port, label, extra args...
    local port=$1; shift
    pgbench -h 127.0.0.1 -p "$port" -U postgres -n -c 8 -j 2 -T "$SECS" "$@" postgres 2>&1 \
        | awk '/^tps = /{print $3}'
}

for port in $PG_PORT $BR_PORT; do
    pgbench -h 127.0.0.1 -p "$port" -U postgres -i -s "$SCALE" -q postgres >/dev/null 2>&1
done

ROUNDS="${ROUNDS:-3}"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '\n%-28s %14s %14s %8s\n' "workload (scale $SCALE, -c 8 -j 2, ${SECS}s, median of $ROUNDS)" "PostgreSQL 15" "bedrock-pg" "ratio"
for w in "select-only simple:-S -M simple" "select-only prepared:-S -M prepared" "TPC-B (tpcb-like) simple:-M simple" "TPC-B (tpcb-like) prepared:-M prepared"; do
    label=${w%%:*}; args=${w#*:}
    pg_runs=""; br_runs=""
    # Alternate the servers so both see the same background load.
    for _ in $(seq "$ROUNDS"); do
        # shellcheck disable=SC2086
        pg_runs="$pg_runs $(bench "$PG_PORT" $args)"
        # shellcheck disable=SC2086
        br_runs="$br_runs $(bench "$BR_PORT" $args)"
    done
    pg=$(echo $pg_runs | tr ' ' '\n' | median)
    br=$(echo $br_runs | tr ' ' '\n' | median)
    ratio=$(awk -v a="$br" -v b="$pg" 'BEGIN { printf "%.2fx", a / b }')
    printf '%-28s %14.0f %14.0f %8s\n' "$label" "$pg" "$br" "$ratio"
done
echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
