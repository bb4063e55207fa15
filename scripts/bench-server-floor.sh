#!/usr/bin/env bash
# CPU per request at pipeline 1 of three servers, in alternating rounds:
#   nio-floor-server  SwiftNIO with nothing behind it: a constant reply per request, no parsing,
#                     no store (Benchmarks/Sources/nio-floor-server); what any SwiftNIO server spends;
#   kvs-server        the real server;
#   redis-server      Debian's Redis.
# For each of GET and SET, each round starts each server afresh, loads 100,000 keys
# (redis-benchmark SET at pipeline 16, so that every GET hits), then runs
#   redis-benchmark -t TEST -c 50 -P 1 -r 100000 -d 64 -n REQUESTS
# and reads the server's user and system CPU time from /proc/PID/stat before and after.
# Prints the medians over the rounds: requests/s, and user, system and total CPU
# microseconds per request. docs/design/server-request-path.md ("SwiftNIO's floor") explains
# what the figures say.
#
# Needs redis-server, redis-benchmark (apt-get install -y redis-server redis-tools), python3.
# Environment: ROUNDS (default 5), REQUESTS (default 300000), SCRATCH_PATH (default .build,
# for kvs-server), BENCH_SCRATCH_PATH (default Benchmarks/.build, for nio-floor-server).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS="${ROUNDS:-5}"
REQUESTS="${REQUESTS:-300000}"
SCRATCH="${SCRATCH_PATH:-.build}"
BENCH_SCRATCH="${BENCH_SCRATCH_PATH:-Benchmarks/.build}"
for tool in redis-server redis-benchmark python3; do
    command -v "$tool" >/dev/null || { echo "bench-server-floor: $tool is missing (apt-get install -y redis-server redis-tools)"; exit 1; }
done
swift build -c release --scratch-path "$SCRATCH" --product kvs-server >&2
swift build -c release --package-path Benchmarks --scratch-path "$BENCH_SCRATCH" --product nio-floor-server >&2
BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)"
FLOOR_BIN="$(swift build -c release --package-path Benchmarks --scratch-path "$BENCH_SCRATCH" --show-bin-path)"

DIR="$(mktemp -d "${TMPDIR:-/tmp}/bench-server-floor.XXXXXX")"
PID=""
stop_server() {
    if [[ -n "$PID" ]]; then
        kill "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    PID=""
}
trap 'stop_server; rm -rf "$DIR"' EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start SERVER TEST PORT: starts the server in the background, PID set, waits until it accepts.
start() {
    case "$1" in
    nio-floor-server) "$FLOOR_BIN/nio-floor-server" --port "$3" --reply "$2" >>"$DIR/log" 2>&1 & ;;
    kvs-server) "$BIN/kvs-server" --port "$3" --dir "$DIR" --save "" >>"$DIR/log" 2>&1 & ;;
    redis-server) redis-server --port "$3" --bind 127.0.0.1 --save "" --appendonly no --dir "$DIR" >>"$DIR/log" 2>&1 & ;;
    esac
    PID=$!
    local deadline=$((SECONDS + 60))
    # Accepting a connection, not PING: the floor server answers PING with its constant.
    until (exec 3<>"/dev/tcp/127.0.0.1/$3") 2>/dev/null; do
        kill -0 "$PID" 2>/dev/null || { echo "bench-server-floor: $1 exited; its log:" >&2; cat "$DIR/log" >&2; exit 1; }
        ((SECONDS < deadline)) || { echo "bench-server-floor: $1 not accepting after 60 s" >&2; exit 1; }
        sleep 0.02
    done
}

# cpu_ticks PID -> "user system" in clock ticks
cpu_ticks() { awk '{ print $14, $15 }' "/proc/$1/stat"; }

TICK="$(getconf CLK_TCK)"
: >"$DIR/raw"
for round in $(seq 1 "$ROUNDS"); do
    for test in get set; do
        for server in nio-floor-server kvs-server redis-server; do
            port="$(free_port)"
            start "$server" "$test" "$port"
            redis-benchmark -h 127.0.0.1 -p "$port" -t set -c 50 -P 16 -r 100000 -d 64 -n 1000000 -q >/dev/null 2>&1
            read -r u0 s0 < <(cpu_ticks "$PID")
            rps="$(redis-benchmark -h 127.0.0.1 -p "$port" -t "$test" -c 50 -P 1 -r 100000 -d 64 -n "$REQUESTS" -q 2>/dev/null \
                | tr '\r' '\n' | grep -i "^$test:" | tail -1 | awk '{ print $2 }')"
            read -r u1 s1 < <(cpu_ticks "$PID")
            stop_server
            echo "$server $test $rps $(((u1 - u0))) $(((s1 - s0)))" >>"$DIR/raw"
        done
    done
    echo "bench-server-floor: round $round of $ROUNDS done" >&2
done

python3 - "$DIR/raw" "$TICK" "$REQUESTS" "$ROUNDS" <<'EOF'
import collections, statistics, sys
raw, tick, requests, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
figures = collections.defaultdict(lambda: collections.defaultdict(list))
def us(ticks):  # clock ticks over the run -> µs per request
    return int(ticks) / tick * 1e6 / requests
for line in open(raw):
    server, test, rps, user, system = line.split()
    f = figures[(test, server)]
    f["rps"].append(float(rps)); f["user"].append(us(user)); f["sys"].append(us(system))
    f["total"].append(us(user) + us(system))
print(f"redis-benchmark -c 50 -P 1 -r 100000 -d 64 -n {requests}; medians of {rounds} rounds; CPU in µs per request")
print(f"{'test':5} {'server':17} {'requests/s':>11} {'user':>6} {'system':>7} {'total':>6}")
for test in ("get", "set"):
    for server in ("nio-floor-server", "kvs-server", "redis-server"):
        f = figures[(test, server)]
        if not f["rps"]:
            continue
        m = {k: statistics.median(v) for k, v in f.items()}
        print(f"{test.upper():5} {server:17} {m['rps']:11.0f} {m['user']:6.2f} {m['sys']:7.2f} {m['total']:6.2f}")
EOF
