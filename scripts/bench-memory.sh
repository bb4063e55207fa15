#!/usr/bin/env bash
# Resident bytes per element of Redis's collection types, kvs-server against redis-server.
#
# For each shape, a fresh server of each kind is started, its VmRSS (/proc/PID/status) read,
# the shape loaded through `redis-cli --pipe`, VmRSS read again; the difference divided by
# the number of elements (and, for the shapes of many keys, by the number of keys) is
# printed with the encoding OBJECT ENCODING names. Elements are `field:N`/`value:N` pairs
# for hashes, the integers 0, 1000, ... 9000 for intsets, `member:N` otherwise; sorted-set
# scores are N * 1.5 (one big key) or N (small keys).
#
# Usage: scripts/bench-memory.sh [shape ...]    (default: every shape)
# Shapes: TYPE-big (one key of 1,000,000 elements) and TYPE-small (100,000 keys of 10
# elements) for TYPE in hash, list, set (strings), zset; intset-small (100,000 sets of 10
# integers).
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
((${#SHAPES[@]})) || SHAPES=(hash-big hash-small list-big list-small set-big set-small intset-small zset-big zset-small)

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
kind, _, size = shape.partition("-")
# The arguments that add element j of a key with the type's write command.
def elements(j):
    if kind == "hash": return ["field:%d" % j, "value:%d" % j]
    if kind == "zset": return [str(j * 1.5) if size == "big" else str(j), "member:%d" % j]
    if kind == "intset": return [str(j * 1000)]
    return ["member:%d" % j]
command = {"hash": "HSET", "list": "RPUSH", "set": "SADD", "intset": "SADD", "zset": "ZADD"}.get(kind)
if command is None or size not in ("big", "small") or (kind == "intset" and size == "big"):
    sys.exit("unknown shape " + shape)
if size == "big":
    n, key = 1_000_000, "big"
    for i in range(0, n, 100):
        args = [command, key]
        for j in range(i, i + 100): args += elements(j)
        cmd(*args)
else:
    keys, per = 100_000, 10
    n, key = keys * per, "small:0"
    for k in range(keys):
        args = [command, "small:%d" % k]
        for j in range(per): args += elements(j)
        cmd(*args)
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
    local perkey=""
    [[ $shape == *-small ]] && perkey=" bytes/key=$(((after - before) / 100000))"
    printf '%-6s %-13s encoding=%-10s bytes/element=%d%s\n' "$kind" "$shape" \
        "$(redis-cli -p "$port" OBJECT ENCODING "$key")" $(((after - before) / n)) "$perkey"
    kill "$pid"; wait "$pid" 2>/dev/null || true
    rm -rf "$dir"
}

for shape in "${SHAPES[@]}"; do
    measure kvs "$shape" "$PORT_BASE"
    measure redis "$shape" "$((PORT_BASE + 1))"
done
