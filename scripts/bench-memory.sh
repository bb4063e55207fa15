#!/usr/bin/env bash
# Resident bytes per element of Redis's collection types, kvs-server against redis-server.
#
# For each shape, a fresh server of each kind is started, its VmRSS (/proc/PID/status) read,
# the shape loaded through `redis-cli --pipe`, VmRSS read again; the difference divided by
# the number of elements is printed with the encoding OBJECT ENCODING names. Elements are
# `field:N`/`value:N` pairs for hashes and `member:N` otherwise.
#
# Usage: scripts/bench-memory.sh [shape ...]    (default: every shape)
# Shapes: hash-big hash-small (more come with each type).
# Environment: KVS_SERVER (a kvs-server binary; default: built in release), PORT_BASE (7600).
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in redis-server redis-cli python3; do
    command -v "$tool" >/dev/null || { echo "bench-memory: $tool is missing"; exit 1; }
done
if [[ -z "${KVS_SERVER:-}" ]]; then
    swift build -c release --product kvs-server >&2
    KVS_SERVER="$(swift build -c release --show-bin-path)/kvs-server"
fi
PORT_BASE="${PORT_BASE:-7600}"
SHAPES=("$@")
((${#SHAPES[@]})) || SHAPES=(hash-big hash-small)

# The commands of one shape, as RESP, on stdout; its element count and a sample key on fd 3.
generate() {
    python3 - "$1" <<'PY'
import os, sys
shape = sys.argv[1]
out = sys.stdout.buffer
def cmd(*args):
    out.write(b"*%d\r\n" % len(args))
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.write(b"$%d\r\n%s\r\n" % (len(a), a))
if shape == "hash-big":
    n, key = 1_000_000, "big"
    for i in range(0, n, 100):
        args = ["HSET", key]
        for j in range(i, i + 100): args += ["field:%d" % j, "value:%d" % j]
        cmd(*args)
elif shape == "hash-small":
    keys, per = 100_000, 10
    n, key = keys * per, "small:0"
    for k in range(keys):
        args = ["HSET", "small:%d" % k]
        for j in range(per): args += ["field:%d" % j, "value:%d" % j]
        cmd(*args)
else:
    sys.exit("unknown shape " + shape)
os.write(3, ("%d %s\n" % (n, key)).encode())
PY
}

rss() { awk '/^VmRSS/ { print $2 * 1024 }' "/proc/$1/status"; }

measure() { # kind shape port
    local kind=$1 shape=$2 port=$3 dir pid
    dir=$(mktemp -d)
    if [[ $kind == kvs ]]; then
        "$KVS_SERVER" --port "$port" --dir "$dir" --save "" >/dev/null 2>&1 &
    else
        redis-server --port "$port" --dir "$dir" --save "" --appendonly no >/dev/null 2>&1 &
    fi
    pid=$!
    for _ in $(seq 100); do redis-cli -p "$port" PING >/dev/null 2>&1 && break; sleep 0.1; done
    local before after n key
    generate "$shape" >"$dir/commands" 3>"$dir/shape"
    read -r n key <"$dir/shape"
    before=$(rss "$pid")
    redis-cli -p "$port" --pipe <"$dir/commands" >/dev/null
    after=$(rss "$pid")
    printf '%-6s %-12s encoding=%-10s bytes/element=%d\n' "$kind" "$shape" \
        "$(redis-cli -p "$port" OBJECT ENCODING "$key")" $(((after - before) / n))
    kill "$pid"; wait "$pid" 2>/dev/null || true
    rm -rf "$dir"
}

for shape in "${SHAPES[@]}"; do
    measure kvs "$shape" "$PORT_BASE"
    measure redis "$shape" "$((PORT_BASE + 1))"
done
