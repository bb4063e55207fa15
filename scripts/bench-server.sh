#!/usr/bin/env bash
# kvs-server against Debian's redis-server, side by side in one run:
# redis-benchmark SET and GET (or the tests TESTS names), 50 clients, pipeline 1 and 16,
# 1,000,000 random keys
# (-r), 64-byte values (-d). Prints the requests per second of each and the ratio,
# and the resident memory per key of each server after loading 1,000,000 keys.
#
# Each rep starts both servers afresh and
#   1. loads the 1,000,000 keys redis-benchmark -r 1000000 draws from (key:000000000000 ..
#      key:000000999999, 64-byte values: the index as 8 little-endian bytes, then 56 zero
#      bytes, as kvs-bench's values) through `redis-cli --pipe`, and reads VmRSS from
#      /proc/PID/status before and after: (after - before) / DBSIZE is the memory per key;
#   2. runs SET and GET at pipeline 1 and 16 on that loaded data (so every GET hits),
#      the two servers alternating test by test.
# The table gives the median over the reps.
#
# Needs redis-server, redis-cli and redis-benchmark (apt-get install -y redis-server redis-tools), python3.
# Environment: TESTS (redis-benchmark -t names, comma-separated; default set,get; for the
# collection types: lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,lrange_600,mset),
# REQUESTS (per test, default 1000000), REPS (default 1), SCRATCH_PATH (default .build),
# KVS_SERVER (a kvs-server binary to use instead of building one), RAW (a file to which the
# raw figures are appended as "PROGRAM WORKLOAD THREADS FIGURE" lines: SET_P1 50 requests/s ...,
# MEM_per_key 1 bytes/key), PRELOAD=0 (skip step 1: no memory row, and GETs then partly
# miss).
set -euo pipefail
cd "$(dirname "$0")/.."

TESTS="${TESTS:-set,get}"
REQUESTS="${REQUESTS:-1000000}"
REPS="${REPS:-1}"
PRELOAD="${PRELOAD:-1}"
SCRATCH="${SCRATCH_PATH:-.build}"
KEYS=1000000
for tool in redis-server redis-benchmark redis-cli python3; do
    command -v "$tool" >/dev/null || { echo "bench-server: $tool is missing (apt-get install -y redis-server redis-tools)"; exit 1; }
done

if [[ -n "${KVS_SERVER:-}" ]]; then
    BIN="$KVS_SERVER"
else
    swift build -c release --scratch-path "$SCRATCH" --product kvs-server >&2
    BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/kvs-server"
fi
[[ -x "$BIN" ]] || { echo "bench-server: no kvs-server at $BIN"; exit 1; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

DIR="$(mktemp -d "${TMPDIR:-/tmp}/bench-server.XXXXXX")"
KVS_PID=""
REDIS_PID=""
stop_servers() {
    local pid
    for pid in "$KVS_PID" "$REDIS_PID"; do
        if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; fi
    done
    for pid in "$KVS_PID" "$REDIS_PID"; do
        if [[ -n "$pid" ]]; then wait "$pid" 2>/dev/null || true; fi
    done
    KVS_PID="" REDIS_PID=""
}
cleanup() {
    stop_servers
    rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# alive PID: the process runs (a child that exited stays a zombie until waited for).
alive() {
    local state
    state="$(ps -o stat= -p "$1" 2>/dev/null || true)"
    [[ -n "$state" && "$state" != Z* ]]
}

# wait_ready PORT PID: polls PING until PONG (at most 60 s; fails if the process died).
wait_ready() {
    local deadline=$((SECONDS + 60))
    until [[ "$(redis-cli -p "$1" ping 2>/dev/null)" == PONG ]]; do
        alive "$2" || { echo "bench-server: server on port $1 exited" >&2; return 1; }
        ((SECONDS < deadline)) || { echo "bench-server: server on port $1 not ready after 60 s" >&2; return 1; }
        sleep 0.02
    done
}

start_servers() {
    KVS_PORT="$(free_port)"
    REDIS_PORT="$(free_port)"
    while [[ "$REDIS_PORT" == "$KVS_PORT" ]]; do REDIS_PORT="$(free_port)"; done
    "$BIN" --port "$KVS_PORT" --dir "$DIR" --save "" >>"$DIR/kvs.log" 2>&1 &
    KVS_PID=$!
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$DIR" \
        --daemonize no >>"$DIR/redis.log" 2>&1 &
    REDIS_PID=$!
    wait_ready "$KVS_PORT" "$KVS_PID"
    wait_ready "$REDIS_PORT" "$REDIS_PID"
}

rss_bytes() { awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$1/status"; }

# The SET commands for the keys redis-benchmark -r 1000000 uses (key: and 12 digits).
make_preload() {
    python3 - "$1" "$KEYS" <<'EOF'
import struct, sys
out, n = sys.argv[1], int(sys.argv[2])
zeros = bytes(56)
with open(out, "wb") as f:
    chunk = []
    for i in range(n):
        key = b"key:%012d" % i
        chunk.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$64\r\n%s%s\r\n" % (len(key), key, struct.pack("<Q", i), zeros))
        if len(chunk) == 65536:
            f.write(b"".join(chunk))
            chunk.clear()
    f.write(b"".join(chunk))
EOF
}

# mem_per_key PORT PID -> resident bytes per key after loading the keys
mem_per_key() {
    local before after count out
    before="$(rss_bytes "$2")"
    out="$(redis-cli -p "$1" --pipe <"$DIR/preload.resp" 2>&1)"
    grep -q 'errors: 0,' <<<"$out" || { echo "bench-server: loading port $1 failed: $out" >&2; return 1; }
    after="$(rss_bytes "$2")"
    count="$(redis-cli -p "$1" dbsize)"
    ((count > 0)) || { echo "bench-server: no keys after loading port $1" >&2; return 1; }
    awk -v a="$after" -v b="$before" -v n="$count" 'BEGIN { printf "%.1f\n", (a - b) / n }'
}

# rps PORT TEST PIPELINE -> requests per second
rps() {
    redis-benchmark -h 127.0.0.1 -p "$1" -t "$2" -c 50 -P "$3" -r 1000000 -d 64 -n "$REQUESTS" -q 2>/dev/null \
        | tr '\r' '\n' | grep -i -E "^$2[: ]" | grep -v "needed to benchmark" | tail -1 \
        | sed -E 's/^[^:]*: ([0-9.]+) requests per second.*/\1/'
}

: >"$DIR/raw"
[[ "$PRELOAD" == 1 ]] && make_preload "$DIR/preload.resp"
for rep in $(seq 1 "$REPS"); do
    start_servers
    if [[ "$PRELOAD" == 1 ]]; then
        echo "kvs-server MEM_per_key 1 $(mem_per_key "$KVS_PORT" "$KVS_PID")" >>"$DIR/raw"
        echo "redis-server MEM_per_key 1 $(mem_per_key "$REDIS_PORT" "$REDIS_PID")" >>"$DIR/raw"
    fi
    for pipeline in 1 16; do
        for test in ${TESTS//,/ }; do
            name="${test^^}_P$pipeline"
            echo "kvs-server $name 50 $(rps "$KVS_PORT" "$test" "$pipeline")" >>"$DIR/raw"
            echo "redis-server $name 50 $(rps "$REDIS_PORT" "$test" "$pipeline")" >>"$DIR/raw"
        done
    done
    stop_servers
    echo "bench-server: rep $rep of $REPS done" >&2
done
[[ -n "${RAW:-}" ]] && cat "$DIR/raw" >>"$RAW"

# median PROGRAM WORKLOAD -> the median of that figure over the reps ("?" if none)
median() {
    awk -v p="$1" -v w="$2" '
        $1 == p && $2 == w && $4 ~ /^[0-9.]+$/ { v[++n] = $4 + 0 }
        END {
            if (n == 0) { print "?"; exit }
            for (a = 2; a <= n; a++) { x = v[a]; for (b = a - 1; b >= 1 && v[b] > x; b--) v[b + 1] = v[b]; v[b + 1] = x }
            m = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
            printf "%.2f\n", m
        }' "$DIR/raw"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f\n", a / b; else print "?" }'; }

echo "redis-benchmark: 50 clients, -r 1000000, -d 64, -n $REQUESTS; $(nproc) cores; $(redis-server --version | cut -d' ' -f3); median of $REPS"
printf '%-12s %9s %16s %16s %8s\n' test pipeline kvs-server redis-server ratio
for pipeline in 1 16; do
    for test in ${TESTS//,/ }; do
        test="${test^^}"
        kvs="$(median kvs-server "${test}_P$pipeline")"
        redis="$(median redis-server "${test}_P$pipeline")"
        printf '%-12s %9s %16s %16s %8s\n' "$test" "$pipeline" "$kvs" "$redis" "$(ratio "$kvs" "$redis")"
    done
done
if [[ "$PRELOAD" == 1 ]]; then
    kvs="$(median kvs-server MEM_per_key)"
    redis="$(median redis-server MEM_per_key)"
    printf '%-12s %9s %16s %16s %8s   (resident bytes per key after loading %d keys)\n' \
        MEM/key - "$kvs" "$redis" "$(ratio "$kvs" "$redis")" "$KEYS"
fi
