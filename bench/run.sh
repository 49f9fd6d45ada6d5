#!/usr/bin/env bash
# Benchmark bedrock-pg against PostgreSQL 15 on this machine, both started by this script in the
# same run, with pgbench. Each workload runs ROUNDS times (default 3) for SECS seconds, alternating
# between the two servers so that both see the same background load; the table shows medians and
# the ratio bedrock-pg / PostgreSQL.
#
#   workloads (pgbench scale SCALE, default 10; -j 2, or -j 1 for one client):
#     select-only (-S), simple and prepared, 8 clients
#     TPC-B (tpcb-like), simple and prepared, 8 clients
#     autocommit UPDATE of one random account (bench/update.pgbench), prepared, 16 clients
#     few clients: select-only prepared at 1 and 2 clients, the UPDATE at 1 client (+ latency)
#     sysbench-style oltp_read_only (bench/oltp_read_only.pgbench on sbtest1, SB_ROWS rows,
#       default 100000, loaded by bench/sbtest_load.sql), prepared and simple, 8 clients
#   optional hook: SHOW bedrock.group_commit on bedrock-pg after the write workloads ("n/a" if
#     the server does not have the setting)
#   memory: a second, fresh bedrock-pg server idle after start, after pgbench -i -s MEM_SCALE
#     (default 20), and at its peak while MEM_CLIENTS (default 100) clients run pgbench -S for
#     MEM_SECS (default 8) seconds; PostgreSQL's process tree at the same points (bench/rss.py).
#
# Usage: bench/run.sh [seconds per run, default 15]    (or SECS=...; ROUNDS=... for rounds)
#   BEDROCK_BIN=path/to/bedrock  use that binary instead of `cargo build --release` here
#   PG_BIN=dir                   PostgreSQL's server binaries (default /usr/lib/postgresql/15/bin)
# Quick smoke test: ROUNDS=1 bench/run.sh 3
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-${SECS:-15}}"
ROUNDS="${ROUNDS:-3}"
SCALE="${SCALE:-10}"
SB_ROWS="${SB_ROWS:-100000}"
MEM_SCALE="${MEM_SCALE:-20}"
MEM_CLIENTS="${MEM_CLIENTS:-100}"
MEM_SECS="${MEM_SECS:-8}"
PGBIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
START_TIME=$(date +%s)

die() { echo "run.sh: $*" >&2; exit 1; }
[ -x "$PGBIN/postgres" ] || die "no PostgreSQL server in $PGBIN (set PG_BIN)"
for tool in pgbench psql pg_isready python3 timeout; do
    command -v "$tool" >/dev/null || die "$tool not found"
done

WORK="$(mktemp -d /tmp/bedrock-bench.XXXXXX)"
chmod 777 "$WORK"
BR_PID=""; BRM_PID=""; BG_PIDS=""

stop_bedrock() { # pid
    local pid=$1 i
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null || return 0
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    set +e
    for pid in $BG_PIDS; do kill "$pid" 2>/dev/null; done
    stop_bedrock "$BR_PID"
    stop_bedrock "$BRM_PID"
    if [ -f "$WORK/pg/postmaster.pid" ]; then
        local pm; pm=$(head -1 "$WORK/pg/postmaster.pid")
        as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate -t 30 stop >/dev/null 2>&1
        kill -0 "$pm" 2>/dev/null && kill -9 "$pm" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
USED_PORTS=""
free_port() { # sets PORT: a free loopback port, never 5432 nor one handed out before in this run
    while :; do
        PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        case " 5432 $USED_PORTS " in *" $PORT "*) continue ;; esac
        USED_PORTS="$USED_PORTS $PORT"; return
    done
}
wait_ready() { # port, name, log file: up to 30 s
    local i
    for i in $(seq 150); do
        pg_isready -q -t 1 -h 127.0.0.1 -p "$1" && return 0
        sleep 0.2
    done
    tail -20 "$3" >&2 || true
    die "$2 on port $1 not ready after 30 s"
}
start_bedrock() { # db file, port, log; sets STARTED_PID
    "$BEDROCK_BIN" -db "$1" -serverHost "127.0.0.1:$2" 2>"$3" &
    STARTED_PID=$!
}
psql_at() { # port, db, sql...
    local port=$1 db=$2; shift 2
    psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d "$db" "$@"
}
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }'; }

if [ -z "${BEDROCK_BIN:-}" ]; then
    cargo build --release -q
    BEDROCK_BIN="${CARGO_TARGET_DIR:-target}/release/bedrock"
fi
[ -x "$BEDROCK_BIN" ] || die "no bedrock binary at $BEDROCK_BIN"
BEDROCK_BIN="$(cd "$(dirname "$BEDROCK_BIN")" && pwd)/$(basename "$BEDROCK_BIN")"

free_port; PG_PORT=$PORT; free_port; BR_PORT=$PORT
echo "starting PostgreSQL 15 on $PG_PORT and bedrock-pg ($BEDROCK_BIN) on $BR_PORT; $WORK"
as_pg "$PGBIN/initdb" -D "$WORK/pg" -U postgres --auth=trust --locale=C -E UTF8 >/dev/null
# PostgreSQL with its defaults (fsync and synchronous_commit on), like bedrock-pg's synchronous=full;
# only max_connections is raised, for the memory test's clients.
as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -w -t 60 \
    -o "-p $PG_PORT -k $WORK -c listen_addresses=127.0.0.1 -c max_connections=$((MEM_CLIENTS + 20))" \
    start >/dev/null || { tail -20 "$WORK/pg.log" >&2; die "PostgreSQL did not start"; }
PG_PM=$(head -1 "$WORK/pg/postmaster.pid")
wait_ready "$PG_PORT" PostgreSQL "$WORK/pg.log"
start_bedrock "$WORK/bedrock.db" "$BR_PORT" "$WORK/bedrock.log"; BR_PID=$STARTED_PID
wait_ready "$BR_PORT" bedrock-pg "$WORK/bedrock.log"
sleep 1
MEM_PG_IDLE=$(python3 bench/rss.py --tree "$PG_PM")

NOTES=""
note() { NOTES="$NOTES$*"$'\n'; }
for port in $PG_PORT $BR_PORT; do
    name=PostgreSQL; [ "$port" = "$BR_PORT" ] && name=bedrock-pg
    t0=$(date +%s.%N)
    timeout 1800 pgbench -h 127.0.0.1 -p "$port" -U postgres -i -s "$SCALE" -q postgres \
        >"$WORK/init.out" 2>&1 || { tail -20 "$WORK/init.out" >&2; die "pgbench -i failed on $name"; }
    t1=$(date +%s.%N)
    psql_at "$port" postgres -v rows="$SB_ROWS" -f bench/sbtest_load.sql >"$WORK/sb.out" 2>&1 \
        || { cat "$WORK/sb.out" >&2; die "loading sbtest1 failed on $name"; }
    note "$(printf 'load %-10s pgbench -i -s %s: %s; sbtest1 (%s rows): %s' \
        "$name" "$SCALE" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f s", b-a}')" "$SB_ROWS" "$(elapsed "$t1")")"
done

# One pgbench run: port, clients, pgbench arguments... Prints "tps latency_ms", or "FAIL FAIL"
# (and pgbench's last lines on stderr) if pgbench failed or reported no tps.
run_pgbench() {
    local port=$1 c=$2 j=2 out="$WORK/pgbench.out"; shift 2
    [ "$c" -lt 2 ] && j=$c
    if timeout -k 5 $((SECS + 120)) pgbench -h 127.0.0.1 -p "$port" -U postgres -n \
            -c "$c" -j "$j" -T "$SECS" "$@" postgres >"$out" 2>&1 \
       && grep -q '^tps = ' "$out"; then
        awk '/^latency average = /{l=$4} /^tps = /{t=$3} END {print t, l}' "$out"
    else
        { echo "pgbench -c $c $* failed on port $port:"; tail -5 "$out"; } >&2
        echo "FAIL FAIL"
    fi
}
median() { # numbers on stdin (FAIL ignored) -> median, or FAIL if none
    { grep -E '^[0-9.]+$' || true; } | sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "FAIL"}'
}

int() { awk -v x="$1" 'BEGIN { if (x ~ /^[0-9.]+$/) printf "%.0f", x; else print x }'; }

UPD="-M prepared -s $SCALE -f bench/update.pgbench"
OLTP="-D rows=$SB_ROWS -f bench/oltp_read_only.pgbench"
# label | clients | pgbench arguments | "lat" to show the average latency
WORKLOADS=(
    "select-only simple, 8 clients|8|-S -M simple|"
    "select-only prepared, 8 clients|8|-S -M prepared|"
    "TPC-B (tpcb-like) simple, 8 clients|8|-M simple|"
    "TPC-B (tpcb-like) prepared, 8 clients|8|-M prepared|"
    "autocommit UPDATE prepared, 16 clients|16|$UPD|"
    "select-only prepared, 1 client|1|-S -M prepared|lat"
    "select-only prepared, 2 clients|2|-S -M prepared|lat"
    "autocommit UPDATE prepared, 1 client|1|$UPD|lat"
    "oltp_read_only prepared, 8 clients|8|-M prepared $OLTP|"
    "oltp_read_only simple, 8 clients|8|-M simple $OLTP|"
)
ROWS=""; FAILED=0
for w in "${WORKLOADS[@]}"; do
    IFS='|' read -r label clients args showlat <<<"$w"
    pg_tps=""; br_tps=""; pg_lat=""; br_lat=""
    echo "running: $label ($ROUNDS x ${SECS}s per server)" >&2
    for _ in $(seq "$ROUNDS"); do
        # shellcheck disable=SC2086
        read -r t l <<<"$(run_pgbench "$PG_PORT" "$clients" $args)"
        pg_tps="$pg_tps $t"; pg_lat="$pg_lat $l"
        # shellcheck disable=SC2086
        read -r t l <<<"$(run_pgbench "$BR_PORT" "$clients" $args)"
        br_tps="$br_tps $t"; br_lat="$br_lat $l"
        kill -0 "$BR_PID" 2>/dev/null || { tail -20 "$WORK/bedrock.log" >&2; die "bedrock-pg exited"; }
    done
    case "$pg_tps $br_tps" in *FAIL*) FAILED=$((FAILED + 1)) ;; esac
    pg=$(tr ' ' '\n' <<<"$pg_tps" | median); br=$(tr ' ' '\n' <<<"$br_tps" | median)
    ratio=$(awk -v a="$br" -v b="$pg" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2fx", a / b; else print "-" }')
    lat=""
    if [ "$showlat" = lat ]; then
        lat=$(printf '%10s %10s' "$(tr ' ' '\n' <<<"$pg_lat" | median)" "$(tr ' ' '\n' <<<"$br_lat" | median)")
    fi
    ROWS="$ROWS$(printf '%-40s %13s %13s %7s %s' "$label" "$(int "$pg")" "$(int "$br")" "$ratio" "$lat")"$'\n'
done

# ---- OPTIONAL HOOK: commits per fsync / group-commit batch size distribution ---------------
# After the write workloads (TPC-B, UPDATE), ask bedrock-pg for its group-commit statistics.
# The server does not have this setting yet (the SHOW errors): then this prints "n/a".
GROUP_COMMIT=$(psql -X -At -h 127.0.0.1 -p "$BR_PORT" -U postgres -d postgres \
    -c "SHOW bedrock.group_commit" 2>/dev/null) || GROUP_COMMIT="n/a"
# ---------------------------------------------------------------------------------------------

MEM_BR_MAIN=$(python3 bench/rss.py "$BR_PID")

# ---- memory: a fresh bedrock-pg server; PostgreSQL's tree with a new database "mem" ---------
free_port; BRM_PORT=$PORT
start_bedrock "$WORK/mem.db" "$BRM_PORT" "$WORK/bedrock-mem.log"; BRM_PID=$STARTED_PID
wait_ready "$BRM_PORT" "bedrock-pg (memory test)" "$WORK/bedrock-mem.log"
sleep 1
MEM_BR_IDLE=$(python3 bench/rss.py "$BRM_PID")
psql_at "$PG_PORT" postgres -c "CREATE DATABASE mem" >/dev/null
for port in $PG_PORT $BRM_PORT; do
    t0=$(date +%s.%N)
    timeout 1800 pgbench -h 127.0.0.1 -p "$port" -U postgres -i -s "$MEM_SCALE" -q mem \
        >"$WORK/init.out" 2>&1 || { tail -20 "$WORK/init.out" >&2; die "pgbench -i -s $MEM_SCALE failed on port $port"; }
    name=PostgreSQL; [ "$port" = "$BRM_PORT" ] && name=bedrock-pg
    note "$(printf 'load %-10s pgbench -i -s %s: %s' "$name" "$MEM_SCALE" "$(elapsed "$t0")")"
done
sleep 1
MEM_PG_LOADED=$(python3 bench/rss.py --tree "$PG_PM")
MEM_BR_LOADED=$(python3 bench/rss.py "$BRM_PID")
mem_busy() { # port, rss.py arguments... -> sets BUSY="rss.py line|tps"
    local port=$1 pid tps line; shift
    timeout -k 5 $((MEM_SECS + 120)) pgbench -h 127.0.0.1 -p "$port" -U postgres -n -S \
        -c "$MEM_CLIENTS" -j 2 -T "$MEM_SECS" mem >"$WORK/mem.out" 2>&1 &
    pid=$!; BG_PIDS="$pid"
    # Sample from 2 s in (all clients connected) to about 1 s before the end; keep the peak.
    line=$(python3 bench/rss.py --port "$port" --delay 2 \
        --watch "$(( MEM_SECS > 4 ? MEM_SECS - 3 : 1 ))" "$@")
    if wait "$pid" && grep -q '^tps = ' "$WORK/mem.out"; then
        tps=$(awk '/^tps = /{printf "%.0f", $3}' "$WORK/mem.out")
    else
        { echo "pgbench -c $MEM_CLIENTS -S failed on port $port:"; tail -5 "$WORK/mem.out"; } >&2
        tps=FAIL; FAILED=$((FAILED + 1))
    fi
    BG_PIDS=""
    BUSY="$line|$tps"
}
mem_busy "$PG_PORT" --tree "$PG_PM"; MEM_PG_BUSY=$BUSY
mem_busy "$BRM_PORT" "$BRM_PID"; MEM_BR_BUSY=$BUSY
stop_bedrock "$BRM_PID"; BRM_PID=""

# ---- report ----------------------------------------------------------------------------------
echo
printf '%-40s %13s %13s %7s %s\n' "workload (scale $SCALE, ${SECS}s, median of $ROUNDS)" \
    "PostgreSQL 15" "bedrock-pg" "ratio" "$(printf '%10s %10s' 'PG lat ms' 'br lat ms')"
printf '%s' "$ROWS"
echo "(tps, excluding connection time; ratio = bedrock-pg / PostgreSQL; lat = pgbench's latency average)"
echo
echo "bedrock.group_commit (optional hook; commits per fsync / batch sizes): "
sed 's/^/  /' <<<"$GROUP_COMMIT"
echo
mem_line() { # label, rss.py line[|tps]: kB -> MiB
    local label=$1 line=${2%%|*} extra=""
    [ "$2" != "$line" ] && extra=" (pgbench ${2##*|} tps)"
    awk -v l="$label" -v x="$extra" '{ printf "%-46s", l
        for (i = 1; i <= 6; i++) printf " %9.1f", $i / 1024
        printf " %5s %5s%s\n", $7, $8, x }' <<<"$line"
}
printf '%-46s %9s %9s %9s %9s %9s %9s %5s %5s\n' "memory (MiB)" VmRSS RssAnon RssFile RssShmem Pss "ps rss" procs conns
mem_line "bedrock-pg idle after start" "$MEM_BR_IDLE"
mem_line "bedrock-pg after pgbench -i -s $MEM_SCALE" "$MEM_BR_LOADED"
mem_line "bedrock-pg peak, $MEM_CLIENTS clients pgbench -S" "$MEM_BR_BUSY"
mem_line "bedrock-pg main server after the workloads" "$MEM_BR_MAIN"
mem_line "PostgreSQL (sum) idle after start" "$MEM_PG_IDLE"
mem_line "PostgreSQL (sum) after pgbench -i -s $MEM_SCALE" "$MEM_PG_LOADED"
mem_line "PostgreSQL (sum) peak, $MEM_CLIENTS clients -S" "$MEM_PG_BUSY"
echo "(VmRSS..RssShmem from /proc/PID/status, Pss from /proc/PID/smaps_rollup, ps rss = ps -o rss."
echo " PostgreSQL: summed over the postmaster and all its children, so shared buffers are counted once"
echo " per process that touched them in VmRSS/RssShmem; Pss counts them once. bedrock-pg's connections"
echo " each mmap the database file, so its RssFile counts the same page-cache pages once per connection;"
echo " Pss counts them once. conns = established TCP connections to the server's port when sampled;"
echo " peak = the sample with the largest VmRSS.)"
echo
printf '%s' "$NOTES"
echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r); total $(( $(date +%s) - START_TIME )) s"
if [ "$FAILED" -gt 0 ]; then
    echo "$FAILED workload(s) had failed runs (FAIL above; pgbench's output is on stderr)" >&2
    exit 1
fi
