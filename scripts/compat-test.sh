#!/usr/bin/env bash
# Real-client compatibility test for kvs-server.
#
# Builds kvs-server, starts it on a free loopback port with a temporary --dir, runs
# Tests/compat/redis_cli_test.sh (redis-cli, Debian's redis-tools) and
# Tests/compat/test_redis_py.py (the `redis` package from PyPI), stops the server, and
# exits non-zero if anything failed.
#
# Needs: redis-cli (apt-get install -y redis-tools) and `pip install redis`.
# Environment: SWIFT_CONFIGURATION=debug|release (default debug),
#              SCRATCH_PATH (default .build).
set -euo pipefail
cd "$(dirname "$0")/.."

CONFIGURATION="${SWIFT_CONFIGURATION:-debug}"
SCRATCH="${SCRATCH_PATH:-.build}"
command -v redis-cli >/dev/null || { echo "compat-test: redis-cli is missing (apt-get install -y redis-tools)"; exit 1; }
python3 -c 'import redis' 2>/dev/null || { echo "compat-test: the Python redis package is missing (pip install redis)"; exit 1; }

swift build -c "$CONFIGURATION" --scratch-path "$SCRATCH" --product kvs-server
BIN="$(swift build -c "$CONFIGURATION" --scratch-path "$SCRATCH" --show-bin-path)/kvs-server"

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
PORT="$(free_port)"
DIR="$(mktemp -d)"
LOG="$DIR/kvs-server.log"
"$BIN" --port "$PORT" --dir "$DIR" --save "" >"$LOG" 2>&1 &
PID=$!
cleanup() {
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    rm -rf "$DIR"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
    redis-cli -p "$PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
done
redis-cli -p "$PORT" ping >/dev/null || { echo "compat-test: kvs-server did not start"; cat "$LOG"; exit 1; }

status=0
echo "== redis-cli against kvs-server on port $PORT"
Tests/compat/redis_cli_test.sh "$PORT" || status=1
echo "== redis-py against kvs-server on port $PORT"
KVS_PORT="$PORT" python3 Tests/compat/test_redis_py.py || status=1

# A graceful stop (SIGTERM) must exit 0.
kill -TERM "$PID"
if ! wait "$PID"; then
    echo "compat-test: kvs-server did not exit cleanly on SIGTERM"
    cat "$LOG"
    status=1
fi
if ((status != 0)); then
    echo "compat-test: FAILED"
else
    echo "compat-test: all passed"
fi
exit "$status"
