#!/usr/bin/env bash
# RedisClusterStore against redis-benchmark on the same local Redis Cluster, in one run.
#
#   1. starts 3 redis-server primaries on loopback (cluster mode, no persistence, no replicas)
#      and joins them with `redis-cli --cluster create ... --cluster-replicas 0`;
#   2. runs the release `scale-out` example against it (RedisClusterStore from one process,
#      CONCURRENCY tasks): batchSet and batchGet of KEYS keys in batches of BATCH, then SINGLE
#      single-key set and get calls; it checks every value it reads;
#   3. runs `redis-benchmark --cluster -c 50 -P 16 -t set,get -d 64 -r 1000000` against the
#      same cluster;
#   4. prints both side by side, and stops the cluster and removes its files whatever happened.
#
# Needs redis-server, redis-cli and redis-benchmark (apt-get install -y redis-server redis-tools)
# and python3 (to find free ports).
# Environment: KEYS (default 100000), BATCH (default 1000), SINGLE (single-key calls, default
# 100000), CONCURRENCY (scale-out's tasks, default 50), REQUESTS (redis-benchmark's -n, default
# 1000000), SCRATCH_PATH (default .build), SCALE_OUT (a scale-out binary to use instead of building).
set -euo pipefail
cd "$(dirname "$0")/.."

KEYS="${KEYS:-100000}"
BATCH="${BATCH:-1000}"
SINGLE="${SINGLE:-100000}"
CONCURRENCY="${CONCURRENCY:-50}"
REQUESTS="${REQUESTS:-1000000}"
SCRATCH="${SCRATCH_PATH:-.build}"
for tool in redis-server redis-cli redis-benchmark python3; do
    command -v "$tool" >/dev/null || { echo "bench-cluster: $tool is missing (apt-get install -y redis-server redis-tools)"; exit 1; }
done

if [[ -n "${SCALE_OUT:-}" ]]; then
    BIN="$SCALE_OUT"
else
    swift build -c release --scratch-path "$SCRATCH" --product scale-out >&2
    BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/scale-out"
fi
[[ -x "$BIN" ]] || { echo "bench-cluster: no scale-out at $BIN"; exit 1; }

DIR="$(mktemp -d "${TMPDIR:-/tmp}/bench-cluster.XXXXXX")"
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Three ports P with P and P + 10000 (the cluster bus) both free on 127.0.0.1.
read -r -a PORTS <<<"$(python3 - <<'EOF'
import random, socket
def free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()
ports = []
candidates = list(range(20000, 45000))
random.shuffle(candidates)
for p in candidates:
    if free(p) and free(p + 10000):
        ports.append(p)
        if len(ports) == 3:
            break
print(" ".join(map(str, ports)))
EOF
)"
((${#PORTS[@]} == 3)) || { echo "bench-cluster: found no 3 free port pairs"; exit 1; }

alive() {
    local state
    state="$(ps -o stat= -p "$1" 2>/dev/null || true)"
    [[ -n "$state" && "$state" != Z* ]]
}

# wait_until DESCRIPTION COMMAND...: polls COMMAND until it succeeds (at most 60 s).
wait_until() {
    local what="$1" deadline=$((SECONDS + 60))
    shift
    until "$@"; do
        ((SECONDS < deadline)) || { echo "bench-cluster: $what not ready after 60 s" >&2; return 1; }
        sleep 0.05
    done
}

for i in 0 1 2; do
    port="${PORTS[$i]}"
    mkdir -p "$DIR/$port"
    redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file "nodes-$port.conf" \
        --cluster-node-timeout 5000 --save "" --appendonly no --dir "$DIR/$port" --daemonize no \
        >>"$DIR/$port/redis.log" 2>&1 &
    PIDS+=($!)
done
# pong PORT PID: whether the server answers PING (exits the script if it died).
pong() {
    alive "$2" || { echo "bench-cluster: redis-server on port $1 exited: $(tail -3 "$DIR/$1/redis.log")" >&2; exit 1; }
    [[ "$(redis-cli -p "$1" ping 2>/dev/null)" == PONG ]]
}
for i in 0 1 2; do
    wait_until "redis-server on port ${PORTS[$i]}" pong "${PORTS[$i]}" "${PIDS[$i]}"
done

SEEDS="127.0.0.1:${PORTS[0]},127.0.0.1:${PORTS[1]},127.0.0.1:${PORTS[2]}"
redis-cli --cluster create "127.0.0.1:${PORTS[0]}" "127.0.0.1:${PORTS[1]}" "127.0.0.1:${PORTS[2]}" \
    --cluster-replicas 0 --cluster-yes >"$DIR/create.log" 2>&1 \
    || { echo "bench-cluster: cluster create failed:"; cat "$DIR/create.log"; exit 1; }
cluster_ok() {
    local port
    for port in "${PORTS[@]}"; do
        redis-cli -p "$port" cluster info 2>/dev/null | tr -d '\r' | grep -q '^cluster_state:ok$' || return 1
        redis-cli -p "$port" cluster info 2>/dev/null | tr -d '\r' | grep -q '^cluster_known_nodes:3$' || return 1
    done
}
wait_until "the cluster" cluster_ok

echo "Cluster: 3 primaries, no replicas, on $SEEDS ($(redis-server --version | cut -d' ' -f3)); $(nproc) cores"
echo
"$BIN" --backend cluster --seeds "$SEEDS" --keys "$KEYS" --batch-size "$BATCH" --single-key-ops "$SINGLE" \
    --concurrency "$CONCURRENCY" | tee "$DIR/scale-out.txt"
echo

redis-benchmark --cluster -h 127.0.0.1 -p "${PORTS[0]}" -c 50 -P 16 -t set,get -d 64 -r 1000000 -n "$REQUESTS" --csv \
    2>"$DIR/benchmark.err" | tr -d '\r' >"$DIR/benchmark.csv" \
    || { echo "bench-cluster: redis-benchmark failed:"; cat "$DIR/benchmark.err"; exit 1; }
echo "redis-benchmark --cluster -c 50 -P 16 -t set,get -d 64 -r 1000000 -n $REQUESTS:"
grep -E '^"(test|SET|GET)"' "$DIR/benchmark.csv" || { echo "bench-cluster: no figures from redis-benchmark:"; cat "$DIR/benchmark.csv" "$DIR/benchmark.err"; exit 1; }
echo

# scale_out PHASE COLUMN -> a figure from scale-out's table ("batch write" ... ; 6: calls/s, 7: keys/s)
scale_out() { awk -v phase="$1" -v column="$2" '$1 " " $2 == phase { printf "%.0f\n", $column }' "$DIR/scale-out.txt"; }
# benchmark TEST -> requests per second of redis-benchmark's SET or GET
benchmark() { awk -F'"' -v test="$1" '$2 == test { printf "%.0f\n", $4 }' "$DIR/benchmark.csv"; }

printf '%-44s %22s %26s\n' "operation (ops/s; a batch op is one key)" "RedisClusterStore" "redis-benchmark --cluster"
printf '%-44s %22s %26s\n' "" "(1 process, $CONCURRENCY tasks)" "(-c 50 -P 16)"
printf '%-44s %22s %26s\n' "SET, single key (set / SET)" "$(scale_out "single write" 6)" "$(benchmark SET)"
printf '%-44s %22s %26s\n' "GET, single key (get / GET)" "$(scale_out "single read" 6)" "$(benchmark GET)"
printf '%-44s %22s %26s\n' "batch write (batchSet, $BATCH keys a call)" "$(scale_out "batch write" 7)" "-"
printf '%-44s %22s %26s\n' "batch read (batchGet, $BATCH keys a call)" "$(scale_out "batch read" 7)" "-"
