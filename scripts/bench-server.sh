#!/usr/bin/env bash
# kvs-server against Debian's redis-server, side by side in one run (issue #6, #8):
# redis-benchmark SET and GET, 50 clients, pipeline 1 and 16, 1,000,000 random keys
# (-r), 64-byte values (-d). Prints the requests per second of each and the ratio.
#
# Needs redis-server and redis-benchmark (apt-get install -y redis-server redis-tools).
# Environment: REQUESTS (per test, default 1000000), SCRATCH_PATH (default .build).
set -euo pipefail
cd "$(dirname "$0")/.."

REQUESTS="${REQUESTS:-1000000}"
SCRATCH="${SCRATCH_PATH:-.build}"
for tool in redis-server redis-benchmark redis-cli; do
    command -v "$tool" >/dev/null || { echo "bench-server: $tool is missing (apt-get install -y redis-server redis-tools)"; exit 1; }
done

swift build -c release --scratch-path "$SCRATCH" --product kvs-server >&2
BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/kvs-server"

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
KVS_PORT="$(free_port)"
REDIS_PORT="$(free_port)"
while [[ "$REDIS_PORT" == "$KVS_PORT" ]]; do REDIS_PORT="$(free_port)"; done
DIR="$(mktemp -d)"

"$BIN" --port "$KVS_PORT" --dir "$DIR" --save "" >"$DIR/kvs.log" 2>&1 &
KVS_PID=$!
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$DIR" \
    --daemonize no >"$DIR/redis.log" 2>&1 &
REDIS_PID=$!
cleanup() {
    kill "$KVS_PID" "$REDIS_PID" 2>/dev/null || true
    wait "$KVS_PID" "$REDIS_PID" 2>/dev/null || true
    rm -rf "$DIR"
}
trap cleanup EXIT
for port in "$KVS_PORT" "$REDIS_PORT"; do
    for _ in $(seq 1 100); do
        redis-cli -p "$port" ping >/dev/null 2>&1 && break
        sleep 0.1
    done
done

# rps PORT TEST PIPELINE -> requests per second
rps() {
    redis-benchmark -h 127.0.0.1 -p "$1" -t "$2" -c 50 -P "$3" -r 1000000 -d 64 -n "$REQUESTS" -q 2>/dev/null \
        | tr '\r' '\n' | grep -i "^$2:" | tail -1 | sed -E 's/^[A-Za-z]+: ([0-9.]+) requests per second.*/\1/'
}

echo "redis-benchmark: 50 clients, -r 1000000, -d 64, -n $REQUESTS; $(nproc) cores; $(redis-server --version | cut -d' ' -f3)"
printf '%-8s %9s %16s %16s %8s\n' test pipeline kvs-server redis-server ratio
for pipeline in 1 16; do
    for test in set get; do
        kvs="$(rps "$KVS_PORT" "$test" "$pipeline")"
        redis="$(rps "$REDIS_PORT" "$test" "$pipeline")"
        ratio="$(python3 -c "print(f'{float(\"$kvs\") / float(\"$redis\"):.2f}')" 2>/dev/null || echo "?")"
        printf '%-8s %9s %16s %16s %8s\n' "${test^^}" "$pipeline" "$kvs" "$redis" "$ratio"
    done
done
